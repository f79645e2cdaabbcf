import type { FastifyBaseLogger } from 'fastify'
import type { OperationDefinition } from '../definition/definition.js'
import { callHook } from './sender.js'
import type { AttemptResult, Hook, Sender } from './sender.js'
import type { Target } from './target.js'

type Awaitable<T> = T | Promise<T>

/** A message accepted by enqueue(): validated and serialised, its target checked. */
export interface QueuedMessage {
  /** Its webhook-id, the same on every attempt. */
  id: string
  /** The definition object itself: a durable store keeps the rest and finds it again by target kind, name and method. */
  definition: OperationDefinition
  target: Target
  body: string | undefined
  /** Epoch milliseconds. */
  enqueuedAt: number
}

/** "Run attempt `attempt` of `message` at `runAt`" (epoch milliseconds). */
export interface ScheduledAttempt {
  message: QueuedMessage
  attempt: number
  runAt: number
}

/**
 * Where queued messages wait. The dispatcher owns the retry policy; a store only keeps each message's next attempt.
 * Methods may return promises, so that a durable engine can back it.
 */
export interface DeliveryStore {
  /** Keeps a message's next attempt, replacing the one it had; a taken attempt becomes waiting again. */
  add (scheduled: ScheduledAttempt): Awaitable<void>
  /**
   * Takes up to `limit` waiting attempts due at `now`, earliest first; a taken attempt is not returned again until
   * added again. `nextRunAt` is when the earliest attempt still waiting is due.
   */
  take (now: number, limit: number): Awaitable<{ due: ScheduledAttempt[], nextRunAt: number | undefined }>
  /** Forgets a message: delivered, or given up. */
  remove (messageId: string): Awaitable<void>
  /** Every message not yet finished, waiting or taken. */
  pending (): Awaitable<ScheduledAttempt[]>
}

/** How a queued message ended. `exhausted`: the schedule ran out while the receiver kept failing temporarily. */
export type FinalOutcome = 'delivered' | 'failed' | 'gone' | 'contract-violation' | 'exhausted'

export interface OutcomeEvent {
  messageId: string
  definition: OperationDefinition
  target: Target
  outcome: FinalOutcome
  /** How many attempts were made. */
  attempts: number
  /** The last attempt's result. */
  result: AttemptResult
}

/** Time, as the dispatcher sees it; tests drive it by hand. Timers must not keep the process alive. */
export interface Clock {
  now (): number
  setTimeout (callback: () => void, delay: number): unknown
  clearTimeout (handle: unknown): void
}

export interface DispatcherOptions {
  store: DeliveryStore
  sender: Pick<Sender, 'attempt'>
  /** Delays in milliseconds: schedule[0] before the first attempt, schedule[n] after the n-th failed. */
  schedule: readonly number[]
  /** Each delay is spread by up to ± this fraction of itself. */
  jitter: number
  /** The longest wait a Retry-After answer can impose, in milliseconds. */
  maxRetryAfter: number
  /** Attempts in flight at most. */
  concurrency: number
  log: FastifyBaseLogger
  onOutcome: Hook<OutcomeEvent> | undefined
  clock?: Clock
  random?: () => number
}

export interface Dispatcher {
  /** Stores a new message; its first attempt runs by the schedule's first delay. */
  enqueue (message: QueuedMessage): Promise<void>
  /** Starts nothing more and stops the timer; attempts in flight go on. */
  stop (): void
  /** Once the attempts in flight are settled and recorded: the messages not finished. */
  pending (): Promise<ScheduledAttempt[]>
}

// setTimeout fires at once for delays beyond 2^31 - 1 ms; a longer wait wakes early and is armed again
const MAX_TIMER_DELAY = 2 ** 31 - 1

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delay) => setTimeout(callback, delay).unref(),
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout)
}

export function createDispatcher (options: DispatcherOptions): Dispatcher {
  const { store, sender, schedule, jitter, maxRetryAfter, concurrency, log, onOutcome, clock = systemClock, random = Math.random } = options
  const running = new Set<Promise<void>>()
  let timer: unknown
  let pumping: Promise<void> | undefined
  let again = false
  let stopped = false

  const spread = (delay: number): number => delay * (1 + jitter * (2 * random() - 1))

  function clearTimer (): void {
    clock.clearTimeout(timer)
    timer = undefined
  }

  /** Runs what is due; one pump at a time, and one more if woken meanwhile. */
  function wake (): void {
    if (stopped) return
    if (pumping !== undefined) {
      again = true
      return
    }
    clearTimer()
    pumping = pump()
      .catch(error => { log.error({ err: error }, 'fastify-openapi-callbacks: the delivery store failed to give the attempts due') })
      .finally(() => {
        pumping = undefined
        if (again) {
          again = false
          wake()
        }
      })
  }

  async function pump (): Promise<void> {
    const { due, nextRunAt } = await store.take(clock.now(), concurrency - running.size)
    // taken but not started: they stay pending, and are reported at close
    if (stopped) return
    for (const scheduled of due) start(scheduled)
    // a full dispatcher is woken by the next attempt to finish
    if (nextRunAt !== undefined && running.size < concurrency) {
      timer = clock.setTimeout(wake, Math.min(MAX_TIMER_DELAY, Math.max(0, nextRunAt - clock.now())))
    }
  }

  function start ({ message, attempt }: ScheduledAttempt): void {
    const run = sender.attempt({ messageId: message.id, attempt, definition: message.definition, target: message.target, body: message.body })
      .then(result => settle(message, attempt, result))
      .catch(error => { log.error({ err: error, messageId: message.id }, 'fastify-openapi-callbacks: the delivery store failed to record an attempt') })
      .finally(() => {
        running.delete(run)
        wake()
      })
    running.add(run)
  }

  async function settle (message: QueuedMessage, attempt: number, result: AttemptResult): Promise<void> {
    const delay = schedule[attempt]
    if (result.outcome === 'retryable' && delay !== undefined) {
      // Retry-After only ever postpones: the schedule's delay is the least wait
      const wait = Math.max(spread(delay), Math.min(result.retryAfter ?? 0, maxRetryAfter))
      const runAt = clock.now() + wait
      await store.add({ message, attempt: attempt + 1, runAt })
      log.info({ messageId: message.id, attempt: attempt + 1, runAt: new Date(runAt).toISOString() }, 'fastify-openapi-callbacks: retry scheduled')
      return
    }
    const outcome = result.outcome === 'retryable' ? 'exhausted' : result.outcome
    await store.remove(message.id)
    const fields = { messageId: message.id, kind: message.definition.kind, name: message.target.name, host: new URL(message.target.url).host, attempts: attempt, outcome }
    if (outcome === 'delivered') log.info(fields, 'fastify-openapi-callbacks: message delivered')
    else log.warn(fields, `fastify-openapi-callbacks: message ${outcome}`)
    callHook(onOutcome, { messageId: message.id, definition: message.definition, target: message.target, outcome, attempts: attempt, result }, log, 'onOutcome')
  }

  return {
    async enqueue (message) {
      await store.add({ message, attempt: 1, runAt: clock.now() + spread(schedule[0]!) })
      wake()
    },
    stop () {
      stopped = true
      clearTimer()
    },
    async pending () {
      await pumping
      await Promise.all(running)
      return await store.pending()
    }
  }
}
