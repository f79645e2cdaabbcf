import { test } from 'tap'
import { decide, firstDelay } from '../lib/outcome-policy/outcome-policy.js'
import type { AttemptResult } from '../lib/delivery/sender.js'

// The pure policy every engine obeys: from the attempt number and its result to the next delay or the end

const policy = { schedule: [100, 1_000, 10_000], jitter: 0.2, maxRetryAfter: 60_000 }
const error = new Error('x') as never
const retryable = (retryAfter?: number): AttemptResult => ({ outcome: 'retryable', statusCode: 503, error, retryAfter })

test('only a retryable result is retried, by the schedule, until it runs out', async (t) => {
  const middle = () => 0.5
  t.same(decide(1, retryable(), policy, middle), { retry: true, delay: 1_000 })
  t.same(decide(2, retryable(), policy, middle), { retry: true, delay: 10_000 })
  t.same(decide(3, retryable(), policy, middle), { retry: false, outcome: 'exhausted' }, 'the schedule holds 3 attempts')
  for (const outcome of ['failed', 'gone', 'contract-violation'] as const) {
    t.same(decide(1, { outcome, statusCode: 400, error }, policy, middle), { retry: false, outcome }, outcome)
  }
  t.same(decide(1, { outcome: 'delivered', statusCode: 200, body: undefined }, policy, middle), { retry: false, outcome: 'delivered' })
})

test('jitter spreads a delay by up to ± its fraction; Retry-After postpones within maxRetryAfter, never hastens', async (t) => {
  t.equal(firstDelay(policy, () => 0), 80)
  t.equal(firstDelay(policy, () => 1), 120)
  t.same(decide(1, retryable(), policy, () => 0), { retry: true, delay: 800 })
  t.same(decide(1, retryable(30_000), policy, () => 0.5), { retry: true, delay: 30_000 })
  t.same(decide(1, retryable(3_600_000), policy, () => 0.5), { retry: true, delay: 60_000 }, 'capped')
  t.same(decide(1, retryable(10), policy, () => 0.5), { retry: true, delay: 1_000 }, 'the schedule is the least wait')
})
