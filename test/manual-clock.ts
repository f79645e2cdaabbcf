import type { Clock } from '../lib/delivery/engines/memory-engine.js'

export type ManualClock = ReturnType<typeof manualClock>

/** A clock whose time moves only when told; `armed()` resolves with the delay of the next timer set. */
export function manualClock () {
  let now = Date.now()
  let id = 0
  let armedCount = 0
  const timers = new Map<number, { at: number, callback: () => void }>()
  let onArmed: ((delay: number) => void) | undefined
  const clock: Clock = {
    now: () => now,
    setTimeout (callback, delay) {
      armedCount++
      timers.set(++id, { at: now + delay, callback })
      onArmed?.(delay)
      return id
    },
    clearTimeout (handle) { timers.delete(handle as number) }
  }
  return {
    clock,
    armed: () => new Promise<number>(resolve => { onArmed = resolve }),
    timers: () => timers.size,
    /** How many timers were ever set. */
    armedCount: () => armedCount,
    advance (ms: number) {
      now += ms
      for (const [key, timer] of [...timers]) {
        if (timer.at > now) continue
        timers.delete(key)
        timer.callback()
      }
    }
  }
}
