import type { AttemptResult } from './sender.js'

/**
 * How a queued message ended. `exhausted`: the schedule ran out while the receiver kept failing temporarily;
 * `stalled`: a durable engine ended it because its workers died mid-attempt too often (BullMQ's maxStalledCount);
 * `unreadable`: a durable engine holds data that is no message (damaged, or missing fields), so it ended unsent.
 */
export type FinalOutcome = 'delivered' | 'failed' | 'gone' | 'contract-violation' | 'exhausted' | 'stalled' | 'unreadable'

export interface RetryPolicy {
  /** Delays in milliseconds: schedule[0] before the first attempt, schedule[n] after the n-th failed. */
  schedule: readonly number[]
  /** Each delay is spread by up to ± this fraction of itself. */
  jitter: number
  /** The longest wait a Retry-After answer can impose, in milliseconds. */
  maxRetryAfter: number
}

export type Decision = { retry: true, delay: number } | { retry: false, outcome: FinalOutcome }

/** The wait before the first attempt. `random` gives [0, 1), as Math.random. */
export function firstDelay (policy: RetryPolicy, random: () => number): number {
  return spread(policy.schedule[0]!, policy.jitter, random)
}

/**
 * What follows attempt `attempt` (1 for the first) and its result: a retry after a delay, or the end. Only a
 * retryable result (no answer, 429, 5xx) is retried, while the schedule lasts; Retry-After only ever postpones,
 * within `maxRetryAfter`: the schedule's delay is the least wait.
 */
export function decide (attempt: number, result: AttemptResult, policy: RetryPolicy, random: () => number): Decision {
  if (result.outcome !== 'retryable') return { retry: false, outcome: result.outcome }
  const delay = policy.schedule[attempt]
  if (delay === undefined) return { retry: false, outcome: 'exhausted' }
  return { retry: true, delay: Math.max(spread(delay, policy.jitter, random), Math.min(result.retryAfter ?? 0, policy.maxRetryAfter)) }
}

function spread (delay: number, jitter: number, random: () => number): number {
  return delay * (1 + jitter * (2 * random() - 1))
}
