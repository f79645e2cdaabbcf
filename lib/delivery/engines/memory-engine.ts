import { InvalidEngineOptionsError, QueueFullError } from '../../util/errors.js'
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
  clock?: Clock
}

interface Entry { message: DeliveryMessage, runAt: number, order: number }

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delay) => setTimeout(callback, delay).unref(),
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout)
}

const MEMORY_ENGINE_OPTIONS = group({
  maxPending: number(10_000, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  clock: implementing<Clock>(['now', 'setTimeout', 'clearTimeout'])
})

function fail (fault: string): never {
  throw new InvalidEngineOptionsError(fault)
}

/**
 * The default engine: messages wait in this process, in a binary heap by due time, so taking what is due costs
 * O(log n) however long the queue. It does not survive a restart: what is pending when the process ends is lost,
 * except what the plugin reports at close (the `onPending` hook).
 */
export function createMemoryEngine (options: MemoryEngineOptions = {}): DeliveryEngine {
  const { maxPending, clock = systemClock } = readOptions(options, MEMORY_ENGINE_OPTIONS, fail)
  // every message not finished: its waiting entry, or undefined while its attempt is in flight
  const messages = new Map<string, Entry | undefined>()
  // the waiting entries; a message is in it at most once, as add() keeps the first and a retry follows its attempt
  const heap: Entry[] = []
  const running = new Set<Promise<void>>()
  let context: EngineContext | undefined
  let added = 0
  let timer: unknown
  let working = false

  // earlier first; attempts due at the same time keep the order they were added in
  const before = (a: Entry, b: Entry): boolean => a.runAt < b.runAt || (a.runAt === b.runAt && a.order < b.order)

  function push (message: DeliveryMessage, delay: number): void {
    const entry = { message, runAt: clock.now() + delay, order: added++ }
    messages.set(message.id, entry)
    let index = heap.push(entry) - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(heap[index]!, heap[parent]!)) break
      ;[heap[index], heap[parent]] = [heap[parent]!, heap[index]!]
      index = parent
    }
  }

  function pop (): void {
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    let index = 0
    for (;;) {
      const left = index * 2 + 1
      const right = left + 1
      let first = index
      if (left < heap.length && before(heap[left]!, heap[first]!)) first = left
      if (right < heap.length && before(heap[right]!, heap[first]!)) first = right
      if (first === index) return
      ;[heap[index], heap[first]] = [heap[first]!, heap[index]!]
      index = first
    }
  }

  /** Starts what is due, up to the concurrency; arms one timer for the next. A full engine waits for an attempt to end. */
  function wake (): void {
    clock.clearTimeout(timer)
    timer = undefined
    if (!working) return
    const { concurrency } = context!
    let next = heap[0]
    while (next !== undefined && running.size < concurrency && next.runAt <= clock.now()) {
      messages.set(next.message.id, undefined)
      pop()
      start(next.message)
      next = heap[0]
    }
    if (next !== undefined && running.size < concurrency) {
      // setTimeout fires at once beyond the longest timer: a longer wait wakes early and is armed again
      timer = clock.setTimeout(wake, Math.min(MAX_TIMER_DELAY, next.runAt - clock.now()))
    }
  }

  function start (message: DeliveryMessage): void {
    const run = context!.run(message).then(record).finally(() => {
      running.delete(run)
      wake()
    })
    running.add(run)
  }

  function record (step: AttemptStep): void {
    if (step.type !== 'final') {
      push(step.message, step.delay)
      return
    }
    messages.delete(step.message.id)
    context!.finished(step)
  }

  return {
    async open (given) {
      context = given
    },
    async add (message, delay) {
      if (messages.has(message.id)) return
      if (messages.size >= maxPending) throw new QueueFullError(maxPending)
      push(message, delay)
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
