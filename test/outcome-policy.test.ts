import { test } from 'tap'
import { answerOutcome, breakerAfter, CLOSED, cutShortByClose, decide, firstDelay, isRetriedStatus, probe, receiverSignal, throttleFor } from '../lib/outcome-policy/outcome-policy.js'
import type { AttemptFacts, Breaker } from '../lib/outcome-policy/outcome-policy.js'

// The pure policy the sender, the runner, every engine and the receiver obey: one table per rule

const policy = { schedule: [100, 1_000, 10_000], jitter: 0.2, maxRetryAfter: 60_000 }
const middle = (): number => 0.5
const error = (code: string, cause?: unknown): AttemptFacts['error'] => ({ code, cause })
const retryable = (statusCode: number | undefined, retryAfter?: number, code = 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS'): AttemptFacts =>
  ({ outcome: 'retryable', statusCode, retryAfter, error: error(code) })

test('an answer\'s status: 2xx delivered, 410 gone, 429 and 5xx retried, other 3xx and 4xx final', async (t) => {
  const table: Array<[number, ReturnType<typeof answerOutcome>]> = [
    [200, 'delivered'], [204, 'delivered'], [299, 'delivered'],
    [301, 'failed'], [304, 'failed'], [400, 'failed'], [404, 'failed'], [409, 'failed'], [428, 'failed'], [431, 'failed'],
    [410, 'gone'],
    [429, 'retryable'], [500, 'retryable'], [503, 'retryable'], [599, 'retryable']
  ]
  for (const [status, outcome] of table) {
    t.equal(answerOutcome(status), outcome, `${status}`)
    t.equal(isRetriedStatus(status), outcome === 'retryable', `${status}: a sender ${outcome === 'retryable' ? 'retries' : 'does not retry'} it`)
  }
})

test('only a retryable result is retried, by the schedule, until it runs out', async (t) => {
  const table: Array<[attempt: number, AttemptFacts, ReturnType<typeof decide>]> = [
    [1, retryable(503), { retry: true, delay: 1_000 }],
    [2, retryable(undefined), { retry: true, delay: 10_000 }],
    [3, retryable(503), { retry: false, outcome: 'exhausted' }],
    [1, { outcome: 'failed', statusCode: 400 }, { retry: false, outcome: 'failed' }],
    [1, { outcome: 'gone', statusCode: 410 }, { retry: false, outcome: 'gone' }],
    [1, { outcome: 'contract-violation', statusCode: 200 }, { retry: false, outcome: 'contract-violation' }],
    [1, { outcome: 'delivered', statusCode: 200 }, { retry: false, outcome: 'delivered' }]
  ]
  for (const [attempt, result, decision] of table) t.same(decide(attempt, result, policy, middle), decision, `attempt ${attempt}, ${result.outcome} ${result.statusCode}`)
})

test('jitter spreads a delay by up to ± its fraction; Retry-After postpones within maxRetryAfter, never hastens', async (t) => {
  t.equal(firstDelay(policy, () => 0), 80)
  t.equal(firstDelay(policy, () => 1), 120)
  t.same(decide(1, retryable(503), policy, () => 0), { retry: true, delay: 800 })
  t.same(decide(1, retryable(503, 30_000), policy, middle), { retry: true, delay: 30_000 })
  t.same(decide(1, retryable(503, 3_600_000), policy, middle), { retry: true, delay: 60_000 }, 'capped')
  t.same(decide(1, retryable(503, 10), policy, middle), { retry: true, delay: 1_000 }, 'the schedule is the least wait')
})

test('what an attempt says of its receiver: up when it answered, down when it did not or answered 429/5xx, none when it was not asked', async (t) => {
  const table: Array<[string, AttemptFacts, ReturnType<typeof receiverSignal>]> = [
    ['2xx', { outcome: 'delivered', statusCode: 200 }, 'up'],
    ['4xx', { outcome: 'failed', statusCode: 400, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_STATUS') }, 'up'],
    ['410', { outcome: 'gone', statusCode: 410, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_GONE') }, 'up'],
    ['a broken answer', { outcome: 'contract-violation', statusCode: 200, error: error('FST_OPENAPI_CALLBACKS_CONTRACT_VIOLATION') }, 'up'],
    ['503', retryable(503), 'down'],
    ['429', retryable(429), 'down'],
    ['no answer', retryable(undefined, undefined, 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE'), 'down'],
    ['the deadline', { outcome: 'retryable', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT' }) }, 'down'],
    ['the close', { outcome: 'retryable', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED' }) }, 'none'],
    ['the app\'s secret resolver', retryable(undefined, undefined, 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'), 'none'],
    ['the address policy', { outcome: 'failed', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS') }, 'none'],
    ['a bad URL', { outcome: 'failed', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_INVALID_URL') }, 'none']
  ]
  for (const [what, result, signal] of table) t.equal(receiverSignal(result), signal, what)
})

test('only the close cuts an attempt short into no attempt', async (t) => {
  t.ok(cutShortByClose({ outcome: 'retryable', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED' }) }))
  t.notOk(cutShortByClose({ outcome: 'retryable', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT' }) }))
  t.notOk(cutShortByClose({ outcome: 'retryable', statusCode: undefined, error: error('FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', 'a string cause') }))
  t.notOk(cutShortByClose({ outcome: 'delivered', statusCode: 200 }))
})

test('a 429 or 503 with Retry-After throttles its receiver, capped; other answers do not', async (t) => {
  const table: Array<[AttemptFacts, number | undefined]> = [
    [retryable(429, 2_000), 2_000],
    [retryable(503, 5_000), 5_000],
    [retryable(503, 3_600_000), 60_000],
    [retryable(500, 2_000), undefined],
    [retryable(429), undefined],
    [{ outcome: 'delivered', statusCode: 200 }, undefined]
  ]
  for (const [result, wait] of table) t.equal(throttleFor(result, policy), wait, `${result.statusCode} Retry-After ${result.retryAfter}`)
})

test('the breaker: closed → open after consecutive failures; the probe closes it or opens it again for longer', async (t) => {
  const settings = { failureThreshold: 3, coolDown: 1_000, maxCoolDown: 3_000 }
  let breaker: Breaker = CLOSED
  breaker = breakerAfter(breaker, 'down', false, 0, settings)
  breaker = breakerAfter(breaker, 'down', false, 0, settings)
  t.same(breaker, { ...CLOSED, failures: 2 }, 'below the threshold it stays closed')
  t.equal(breakerAfter(breaker, 'up', false, 0, settings), CLOSED, 'a success resets the count')
  t.equal(breakerAfter(breaker, 'none', false, 0, settings), breaker, 'an attempt no receiver saw changes nothing')
  breaker = breakerAfter(breaker, 'down', false, 10, settings)
  t.same(breaker, { state: 'open', failures: 3, until: 1_010, coolDown: 1_000, openSince: 10 }, 'the threshold opens it')
  t.equal(breakerAfter(breaker, 'down', false, 20, settings), breaker, 'attempts that began before it opened change nothing')
  t.equal(breakerAfter(breaker, 'up', false, 20, settings), breaker, 'even a late success: the probe decides')
  t.equal(probe(breaker, 1_009), breaker, 'no probe before the cool-down ends')
  const probing = probe(breaker, 1_010)
  t.equal(probing.state, 'half-open', 'then one probe')
  const again = breakerAfter(probing, 'down', true, 1_100, settings)
  t.same(again, { state: 'open', failures: 4, until: 3_100, coolDown: 2_000, openSince: 10 }, 'a failed probe doubles the cool-down; openSince keeps the first opening')
  const capped = breakerAfter(probe(again, 3_100), 'down', true, 3_200, settings)
  t.equal(capped.coolDown, 3_000, 'up to maxCoolDown')
  t.equal(breakerAfter(probe(capped, 6_200), 'up', true, 6_300, settings), CLOSED, 'a probe that succeeds closes it')
  t.equal(breakerAfter(probe(capped, 6_200), 'none', true, 6_300, settings).state, 'half-open', 'a probe no receiver saw leaves it half-open for the next')
})
