/**
 * Every "what now?" after an attempt, in one pure module (no I/O, no timers, no clock of its own): which answers
 * succeed, which are retried and when, what an answer says about its receiver, and how that receiver's circuit
 * breaker moves. The sender, the runner, every engine and the receiver read it; none decides on its own.
 */

/**
 * One attempt's outcome. `retryable`: 429, 5xx, no answer, a resolver without a usable answer, or the attempt's
 * deadline passed; `failed`: 3xx, another 4xx, or a refused address; `gone`: 410.
 */
export type AttemptOutcome = 'delivered' | 'retryable' | 'failed' | 'gone' | 'contract-violation'

/**
 * How a queued message ended. `exhausted`: the schedule ran out while the receiver kept failing temporarily;
 * `stalled`: a durable engine ended it because its workers died mid-attempt too often (BullMQ's maxStalledCount);
 * `unreadable`: a durable engine holds data that is no message (damaged, or missing fields), so it ended unsent.
 */
export type FinalOutcome = 'delivered' | 'failed' | 'gone' | 'contract-violation' | 'exhausted' | 'stalled' | 'unreadable'

/** What the policy reads of an attempt's result. */
export interface AttemptFacts {
  outcome: AttemptOutcome
  /** undefined when no answer came */
  statusCode: number | undefined
  /** A 429 or 5xx answer's Retry-After, in milliseconds from when it came. */
  retryAfter?: number | undefined
  /** The error's code, when not delivered. */
  error?: { code: string, cause?: unknown }
}

export interface RetryPolicy {
  /** Delays in milliseconds: schedule[0] before the first attempt, schedule[n] after the n-th failed. */
  schedule: readonly number[]
  /** Each delay is spread by up to ± this fraction of itself. */
  jitter: number
  /** The longest wait a Retry-After answer can impose, in milliseconds. */
  maxRetryAfter: number
}

export type Decision = { retry: true, delay: number } | { retry: false, outcome: FinalOutcome }

/** The statuses a sender retries, with the same webhook-id: a receiver takes that retry for no replay. */
export function isRetriedStatus (statusCode: number): boolean {
  return statusCode === 429 || statusCode >= 500
}

/** What a whole answer's status means: 2xx delivered, 410 gone, 429 and 5xx retried, anything else (3xx, 4xx) final. */
export function answerOutcome (statusCode: number): 'delivered' | 'gone' | 'retryable' | 'failed' {
  if (statusCode < 300) return 'delivered'
  if (statusCode === 410) return 'gone'
  return isRetriedStatus(statusCode) ? 'retryable' : 'failed'
}

/** The wait before the first attempt. `random` gives [0, 1), as Math.random. */
export function firstDelay (policy: RetryPolicy, random: () => number): number {
  return spread(policy.schedule[0]!, policy.jitter, random)
}

/**
 * What follows attempt `attempt` (1 for the first) and its result: a retry after a delay, or the end. Only a
 * retryable result (no answer, 429, 5xx) is retried, while the schedule lasts; Retry-After only ever postpones,
 * within `maxRetryAfter`: the schedule's delay is the least wait.
 */
export function decide (attempt: number, result: AttemptFacts, policy: RetryPolicy, random: () => number): Decision {
  if (result.outcome !== 'retryable') return { retry: false, outcome: result.outcome }
  const delay = policy.schedule[attempt]
  if (delay === undefined) return { retry: false, outcome: 'exhausted' }
  return { retry: true, delay: Math.max(spread(delay, policy.jitter, random), Math.min(result.retryAfter ?? 0, policy.maxRetryAfter)) }
}

function spread (delay: number, jitter: number, random: () => number): number {
  return delay * (1 + jitter * (2 * random() - 1))
}

// no receiver was asked: the close cut the attempt short, the address policy refused it, or the app's own secret
// resolver failed; none of them says anything about the receiver
const NOT_THE_RECEIVER = new Set(['FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', 'FST_OPENAPI_CALLBACKS_INVALID_URL', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'])

/** A code of the error or of its cause. */
function codesOf (error: AttemptFacts['error']): string[] {
  return [error?.code, (error?.cause as { code?: unknown } | undefined)?.code].filter((code): code is string => typeof code === 'string')
}

/** An attempt the close cut short after its grace period is no attempt: the message runs again, with the same number. */
export function cutShortByClose (result: AttemptFacts): boolean {
  return result.outcome === 'retryable' && codesOf(result.error).includes('FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED')
}

/**
 * What an attempt says about its receiver: `up` when it answered (any 2xx, 3xx or 4xx but 429: it is there and
 * chose), `down` when it did not answer, timed out, or answered 429 or 5xx, `none` when it was never asked.
 */
export function receiverSignal (result: AttemptFacts): 'up' | 'down' | 'none' {
  if (codesOf(result.error).some(code => NOT_THE_RECEIVER.has(code))) return 'none'
  return result.outcome === 'retryable' ? 'down' : 'up'
}

/** A 429 or 503 with Retry-After slows all of that receiver's messages, not only this one: the wait, capped. */
export function throttleFor (result: AttemptFacts, policy: Pick<RetryPolicy, 'maxRetryAfter'>): number | undefined {
  if (result.retryAfter === undefined || (result.statusCode !== 429 && result.statusCode !== 503)) return undefined
  return Math.min(result.retryAfter, policy.maxRetryAfter)
}

export interface BreakerSettings {
  /** Consecutive `down` attempts that open the breaker. */
  failureThreshold: number
  /** The first cool-down, in milliseconds; each failed probe doubles it. */
  coolDown: number
  /** The longest cool-down. */
  maxCoolDown: number
}

/**
 * A receiver's circuit breaker. `closed`: attempts flow; `open`: its messages are held until `until` (not attempts);
 * `half-open`: one probe is out, the others wait for its answer.
 */
export interface Breaker {
  state: 'closed' | 'open' | 'half-open'
  /** Consecutive `down` attempts. */
  failures: number
  /** While open: when the probe may go. */
  until: number
  /** The cool-down the breaker opened with last; 0 while it has never opened since it last closed. */
  coolDown: number
  /** Epoch milliseconds since when it has not closed again; undefined while closed. */
  openSince: number | undefined
}

export const CLOSED: Readonly<Breaker> = Object.freeze({ state: 'closed', failures: 0, until: 0, coolDown: 0, openSince: undefined })

/** The breaker once its cool-down has passed: the next attempt is the probe. */
export function probe (breaker: Breaker, now: number): Breaker {
  return breaker.state === 'open' && now >= breaker.until ? { ...breaker, state: 'half-open' } : breaker
}

/**
 * The breaker after an attempt ended with `signal`. The probe decides alone: its success closes the breaker, its
 * failure opens it again with twice the cool-down. While closed, any success resets the count, and
 * `failureThreshold` failures in a row open it; attempts that began before it opened change nothing.
 */
export function breakerAfter (breaker: Breaker, signal: 'up' | 'down' | 'none', wasProbe: boolean, now: number, settings: BreakerSettings): Breaker {
  if (signal === 'none') return breaker
  if (wasProbe) return signal === 'up' ? CLOSED : open(breaker, breaker.failures + 1, Math.min(settings.maxCoolDown, breaker.coolDown * 2), now)
  if (breaker.state !== 'closed') return breaker
  if (signal === 'up') return breaker.failures === 0 ? breaker : CLOSED
  const failures = breaker.failures + 1
  return failures < settings.failureThreshold ? { ...breaker, failures } : open(breaker, failures, settings.coolDown, now)
}

function open (breaker: Breaker, failures: number, coolDown: number, now: number): Breaker {
  return { state: 'open', failures, until: now + coolDown, coolDown, openSince: breaker.openSince ?? now }
}
