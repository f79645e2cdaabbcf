import { InvalidEngineOptionsError, QueueFullError, ReceiverQueueFullError } from '../../util/errors.js'
import { Heap } from '../../util/heap.js'
import { MAX_TIMER_DELAY, group, implementing, number, readOptions } from '../../util/options.js'
import type { DeliveryMessage } from '../message.js'
import type { AttemptStep, DeliveryEngine, EngineContext, PendingMessage } from './engine.js'

/** Time, as the engine sees it; tests drive it by hand. Timers must not keep the process alive. */
export interface Clock {
  now (): number
  setTimeout (callback: () => void, delay: number): unknown
  clearTimeout (handle: unknown): void
}

export interface MemoryEngineOptions {
  /** Messages kept at most, waiting or in flight; enqueue() beyond it rejects with FST_OPENAPI_CALLBACKS_QUEUE_FULL. Default 10 000. */
  maxPending?: number
  /**
   * Messages kept at most for one receiver (a target's origin); enqueue() beyond it rejects with
   * FST_OPENAPI_CALLBACKS_RECEIVER_QUEUE_FULL, naming the receiver, while the others still queue. Default 1 000.
   */
  maxPendingPerReceiver?: number
  clock?: Clock
}

interface Entry { message: DeliveryMessage, receiver: string, runAt: number, order: number }
interface Wakeup { receiver: string, at: number }

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delay) => setTimeout(callback, delay).unref(),
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout)
}

const MEMORY_ENGINE_OPTIONS = group({
  maxPending: number(10_000, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  maxPendingPerReceiver: number(1_000, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  clock: implementing<Clock>(['now', 'setTimeout', 'clearTimeout'])
})

function fail (fault: string): never {
  throw new InvalidEngineOptionsError(fault)
}

// earlier first; attempts due at the same time keep the order they were added in
const before = (a: Entry, b: Entry): boolean => a.runAt < b.runAt || (a.runAt === b.runAt && a.order < b.order)

/**
 * The default engine: messages wait in this process, in a heap by due time, so taking what is due costs O(log n)
 * however long the queue. A due message whose receiver cannot take it (at its share, its breaker open, throttled)
 * waits apart, in its receiver's own heap, without an attempt: it comes back when one of the receiver's attempts
 * ends or its hold runs out, so a receiver with thousands waiting costs the others nothing. It does not survive a
 * restart: what is pending when the process ends is lost, except what the plugin reports at close (`onPending`).
 */
export function createMemoryEngine (options: MemoryEngineOptions = {}): DeliveryEngine {
  const { maxPending, maxPendingPerReceiver, clock = systemClock } = readOptions(options, MEMORY_ENGINE_OPTIONS, fail)
  // every message not finished: its waiting entry, or undefined while its attempt is in flight
  const messages = new Map<string, Entry | undefined>()
  // how many of those each receiver has
  const perReceiver = new Map<string, number>()
  // the waiting entries whose receiver may take them, as far as is known; a message is in one heap at most once
  const due = new Heap<Entry>(before)
  // the due entries whose receiver could not take them, by receiver
  const parked = new Map<string, Heap<Entry>>()
  // when a receiver held for a time (a cool-down, a Retry-After) may take its parked entries again
  const wakeups = new Heap<Wakeup>((a, b) => a.at < b.at)
  const wakeAt = new Map<string, number>()
  const running = new Set<Promise<void>>()
  let context: EngineContext | undefined
  let added = 0
  let timer: unknown
  let working = false

  function push (message: DeliveryMessage, receiver: string, delay: number): void {
    const entry = { message, receiver, runAt: clock.now() + delay, order: added++ }
    messages.set(message.id, entry)
    due.push(entry)
  }

  function park (entry: Entry, wait: number): void {
    let waiting = parked.get(entry.receiver)
    if (waiting === undefined) {
      waiting = new Heap<Entry>(before)
      parked.set(entry.receiver, waiting)
    }
    waiting.push(entry)
    // an infinite wait ends with one of the receiver's attempts, which unparks it
    if (Number.isFinite(wait)) wakeLater(entry.receiver, clock.now() + wait)
  }

  function wakeLater (receiver: string, at: number): void {
    const armed = wakeAt.get(receiver)
    if (armed !== undefined && armed <= at) return
    wakeAt.set(receiver, at)
    wakeups.push({ receiver, at })
  }

  /** As many of the receiver's parked entries as it can take now go back in line, earliest first. */
  function unpark (receiver: string): void {
    const waiting = parked.get(receiver)
    if (waiting === undefined) return
    const { room, wait } = context!.admission(receiver)
    if (room === 0 && Number.isFinite(wait)) wakeLater(receiver, clock.now() + wait)
    for (let left = room; left > 0 && waiting.size > 0; left--) due.push(waiting.pop()!)
    if (waiting.size === 0) parked.delete(receiver)
  }

  /** Starts what is due, up to the concurrency; arms one timer for the next. A full engine waits for an attempt to end. */
  function wake (): void {
    clock.clearTimeout(timer)
    timer = undefined
    if (!working) return
    const { concurrency } = context!
    const now = clock.now()
    while (wakeups.size > 0 && wakeups.peek()!.at <= now) {
      const { receiver, at } = wakeups.pop()!
      if (wakeAt.get(receiver) === at) wakeAt.delete(receiver)
      unpark(receiver)
    }
    let next = due.peek()
    while (next !== undefined && running.size < concurrency && next.runAt <= now) {
      due.pop()
      const { room, wait } = context!.admission(next.receiver)
      if (room > 0) start(next)
      else park(next, wait)
      next = due.peek()
    }
    let at = wakeups.peek()?.at ?? Infinity
    if (next !== undefined && running.size < concurrency) at = Math.min(at, next.runAt)
    // a wait beyond the longest timer wakes early and is armed again
    if (at !== Infinity) timer = clock.setTimeout(wake, Math.min(MAX_TIMER_DELAY, Math.max(0, at - now)))
  }

  function start ({ message, receiver }: Entry): void {
    messages.set(message.id, undefined)
    const run = context!.run(message).then(step => { record(step, receiver) }).finally(() => {
      running.delete(run)
      unpark(receiver)
      wake()
    })
    running.add(run)
  }

  function record (step: AttemptStep, receiver: string): void {
    if (step.type !== 'final') {
      push(step.message, receiver, step.delay)
      return
    }
    messages.delete(step.message.id)
    const left = perReceiver.get(receiver)! - 1
    if (left === 0) perReceiver.delete(receiver)
    else perReceiver.set(receiver, left)
    context!.finished(step)
  }

  return {
    async open (given) {
      context = given
    },
    async add (message, delay) {
      if (messages.has(message.id)) return
      if (messages.size >= maxPending) throw new QueueFullError(maxPending)
      const receiver = context!.receiverOf(message)
      const count = perReceiver.get(receiver) ?? 0
      if (count >= maxPendingPerReceiver) throw new ReceiverQueueFullError(receiver, maxPendingPerReceiver)
      perReceiver.set(receiver, count + 1)
      push(message, receiver, delay)
      wake()
    },
    async work () {
      working = true
      wake()
    },
    async close () {
      working = false
      wake()
      await Promise.all(running)
    },
    async pending (): Promise<PendingMessage[]> {
      return [...messages.values()].map(entry => ({ message: entry!.message, runAt: entry!.runAt }))
    }
  }
}
