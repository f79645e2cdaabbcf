import { test } from 'tap'
import type { Test } from 'tap'
import { createAddressPolicy } from '../lib/address-policy/address-policy.js'
import { defineWebhook } from '../lib/definition/definition.js'
import { createSecretSource } from '../lib/delivery/secrets.js'
import { createSender } from '../lib/delivery/sender.js'
import { DEFAULT_SCHEDULE } from '../lib/delivery/options.js'
import { createMemoryEngine } from '../lib/delivery/engines/memory-engine.js'
import type { DeliveryMessage } from '../lib/delivery/message.js'
import { newMessageId } from '../lib/delivery/message.js'
import { createPayloadValidator } from '../lib/delivery/payload-validator.js'
import { createDeliveryRegistry } from '../lib/delivery/registry.js'
import { createRunner } from '../lib/delivery/runner.js'
import type { OutcomeEvent, RunnerOptions } from '../lib/delivery/runner.js'
import { manualClock } from './manual-clock.js'
import { recordingLogger, startReceiver } from './receivers.js'
import type { Handler } from './receivers.js'

// Real HTTP to a receiver on 127.0.0.1, through the real runner and sender; only time is driven by hand, through the engine's clock

const event = defineWebhook('POST', 'event', {})

const status = (code: number, headers: Record<string, string> = {}): Handler => (_, response) => {
  response.writeHead(code, headers).end()
}

interface Options extends Partial<Omit<RunnerOptions, 'registry' | 'sender' | 'log' | 'onOutcome'>> {
  maxPending?: number
  maxPendingPerReceiver?: number
  jitter?: number
  maxRetryAfter?: number
  schedule?: readonly number[]
}

async function setup (t: Test, handler: Handler, options: Options = {}) {
  const receiver = await startReceiver(handler)
  t.teardown(() => receiver.close())
  const agent = createAddressPolicy({ allowHttp: true, allow: ['127.0.0.1'] }).createAgent()
  t.teardown(() => agent.close())
  const { log, entries } = recordingLogger()
  const time = manualClock()
  const outcomes: OutcomeEvent[] = []
  let waiting: ((event: OutcomeEvent) => void) | undefined
  const counts: Array<{ count: number, resolve: () => void }> = []
  const webhooks = [{ key: 'webhook_event_post', definition: event }]
  const registry = createDeliveryRegistry(() => webhooks)
  const sender = createSender({ agent, secrets: createSecretSource([], undefined, 1000), headers: {}, validator: createPayloadValidator(() => []), log, onAttempt: undefined })
  let started = 0
  const runner = createRunner({
    registry,
    sender: { attempt: (message, definition) => { started++; return sender.attempt(message, definition) } },
    policy: { schedule: options.schedule ?? DEFAULT_SCHEDULE, jitter: options.jitter ?? 0, maxRetryAfter: options.maxRetryAfter ?? 3_600_000 },
    concurrency: options.concurrency ?? 10,
    unknownKeyGrace: options.unknownKeyGrace ?? 600_000,
    isolation: { perReceiver: options.concurrency ?? 10, failureThreshold: 1_000, coolDown: 30_000, maxCoolDown: 600_000, unhealthyAfter: 3_600_000, maxRetryAfter: 3_600_000, attemptTimeout: 30_000 },
    onReceiverUnhealthy: undefined,
    log,
    onOutcome: (event) => {
      outcomes.push(event)
      waiting?.(event)
      for (const { count, resolve } of counts) if (outcomes.length >= count) resolve()
    },
    now: time.clock.now,
    random: options.random ?? Math.random
  })
  const { maxPending, maxPendingPerReceiver } = options
  const engine = createMemoryEngine({ clock: time.clock, ...(maxPending === undefined ? {} : { maxPending }), ...(maxPendingPerReceiver === undefined ? {} : { maxPendingPerReceiver }) })
  await engine.open(runner)
  await engine.work()
  t.teardown(() => engine.close())
  return {
    receiver,
    time,
    outcomes,
    outcome: () => new Promise<OutcomeEvent>(resolve => { waiting = resolve }),
    until: (count: number) => new Promise<void>(resolve => { counts.push({ count, resolve }) }),
    entries,
    engine,
    webhooks,
    started: () => started,
    /** A message to the receiver, as enqueue() makes it; its first attempt is due now. */
    message: (key = 'webhook_event_post'): DeliveryMessage => ({
      id: newMessageId(),
      key,
      target: { kind: 'webhook', key, name: 'event', method: 'POST', url: receiver.origin },
      body: '{"n":1}',
      headers: {},
      attempt: 1,
      enqueuedAt: time.clock.now()
    })
  }
}

test('the default schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with one webhook-id', async (t) => {
  const { receiver, time, engine, outcome, message, entries } = await setup(t, status(503))
  const sent = message()
  const delays: number[] = []
  let armed = time.armed()
  const finished = outcome()
  await engine.add(sent, 0)
  for (let attempt = 1; attempt < DEFAULT_SCHEDULE.length; attempt++) {
    const delay = await armed
    delays.push(delay)
    t.equal(receiver.received.length, attempt, `attempt ${attempt} made, the next one waits`)
    armed = time.armed()
    time.advance(delay)
  }
  t.same(delays, DEFAULT_SCHEDULE.slice(1))
  t.match(await finished, { messageId: sent.id, definition: event, outcome: 'exhausted', attempts: 8, result: { outcome: 'retryable', statusCode: 503 } })
  t.same(new Set(receiver.received.map(request => request.headers['webhook-id'])), new Set([sent.id]), 'the same webhook-id on every attempt')
  t.same(receiver.received.map(request => request.body), Array(8).fill('{"n":1}'))
  await engine.close()
  t.same(await engine.pending(), [], 'nothing left')
  t.equal(time.timers(), 0, 'no timer left')
  t.match(entries.filter(entry => entry.msg === 'retry scheduled').map(entry => entry.attempt), [2, 3, 4, 5, 6, 7, 8])
  t.match(entries.at(-1), { level: 40, msg: 'message exhausted', messageId: sent.id, attempts: 8, outcome: 'exhausted', kind: 'webhook', name: 'event' })
})

test('a retry that succeeds ends the message as delivered', async (t) => {
  const { receiver, time, engine, outcome, message, entries } = await setup(t, status(500))
  const armed = time.armed()
  const finished = outcome()
  await engine.add(message(), 0)
  time.advance(await armed)
  receiver.answer(status(204))
  t.equal(receiver.received.length, 1)
  await receiver.arrived(2)
  t.match(await finished, { outcome: 'delivered', attempts: 2, result: { outcome: 'delivered', statusCode: 204 } })
  t.match(entries.at(-1), { level: 30, msg: 'message delivered', attempts: 2 })
})

test('final answers are not retried: 410 gone, 3xx and 4xx failed, contract violations', async (t) => {
  const { receiver, time, engine, outcome, message } = await setup(t, status(410))
  const cases: Array<[Handler, string]> = [
    [status(410), 'gone'],
    [status(302, { location: '/x' }), 'failed'],
    [status(404), 'failed'],
    [(_, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{}') }, 'delivered']
  ]
  for (const [handler, expected] of cases) {
    receiver.answer(handler)
    const finished = outcome()
    await engine.add(message(), 0)
    t.match(await finished, { outcome: expected, attempts: 1 }, expected)
  }
  t.equal(time.timers(), 0, 'no retry was scheduled')
  t.equal(receiver.received.length, cases.length)
})

test('jitter spreads each delay by up to ± its fraction', async (t) => {
  for (const [random, expected] of [[0, 2_500], [1, 7_500], [0.5, 5_000]]) {
    const { time, engine, message } = await setup(t, status(503), { jitter: 0.5, random: () => random! })
    const armed = time.armed()
    await engine.add(message(), 0)
    t.equal(await armed, expected, `random() = ${random}`)
  }
})

test('Retry-After postpones the next attempt, up to maxRetryAfter, and never hastens it', async (t) => {
  const cases: Array<[string, number]> = [['120', 120_000], ['7200', 1_800_000], ['1', 5_000], ['Wed, 21 Oct 2015 07:28:00 GMT', 5_000]]
  for (const [retryAfter, expected] of cases) {
    const { time, engine, message } = await setup(t, status(429, { 'retry-after': retryAfter }), { maxRetryAfter: 1_800_000 })
    const armed = time.armed()
    await engine.add(message(), 0)
    t.equal(await armed, expected, `Retry-After: ${retryAfter}`)
  }
})

test('the first attempt waits for its delay; a wait beyond what a timer can hold wakes early and waits again', async (t) => {
  const month = 30 * 24 * 3_600_000
  const { receiver, time, engine, message } = await setup(t, status(503))
  let armed = time.armed()
  await engine.add(message(), month)
  const first = await armed
  t.equal(first, 2 ** 31 - 1)
  armed = time.armed()
  time.advance(first)
  t.equal(await armed, month - first, 'armed again for the rest')
  t.equal(receiver.received.length, 0, 'not sent before its time')
  time.advance(month - first)
  await receiver.arrived(1)
})

test('concurrency bounds the attempts in flight; a full engine sets no timer until one ends', async (t) => {
  const held: Array<() => void> = []
  const { receiver, engine, until, message, outcomes, started, time } = await setup(t, (_, response) => {
    held.push(() => response.writeHead(204).end())
  }, { concurrency: 2 })
  for (let i = 0; i < 5; i++) await engine.add(message(), 0)
  await receiver.arrived(2)
  t.equal(started(), 2, 'two attempts started, three left waiting')
  t.equal(time.armedCount(), 0, 'full: no timer polls for the waiting ones')
  t.equal(time.timers(), 0)
  held.shift()!()
  await receiver.arrived(3)
  t.equal(started(), 3, 'one finished, one more started')
  receiver.answer((_, response) => { response.writeHead(204).end() })
  const all = until(5)
  for (const release of held) release()
  await all
  t.equal(started(), 5)
  t.equal(time.armedCount(), 0, 'never a timer, since all were due')
  t.same(outcomes.map(event => event.outcome), Array(5).fill('delivered'))
})

test('due attempts start earliest first, ties in the order they were added, over a long queue', async (t) => {
  const order: string[] = []
  const { engine, message, until, time, receiver } = await setup(t, (request, response) => {
    order.push(JSON.parse(request.body).id)
    response.writeHead(204).end()
  }, { concurrency: 1, maxPendingPerReceiver: 2_000 })
  const count = 2_000
  const expected: Array<[number, number, string]> = []
  for (let index = 0; index < count; index++) {
    // a fixed permutation of the due times, with ties, so the heap sees them out of order
    const delay = ((index * 7919) % count) >> 2
    const sent = { ...message(), body: JSON.stringify({ id: `m${index}` }) }
    expected.push([delay, index, `m${index}`])
    await engine.add(sent, delay + 1)
  }
  expected.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const all = until(count)
  time.advance(count)
  await all
  t.equal(receiver.received.length, count)
  t.same(order, expected.map(([, , id]) => id))
})

test('past maxPending, add() rejects with QUEUE_FULL; maxPending must be a whole number from 1', async (t) => {
  const { engine, message, receiver, time } = await setup(t, status(204), { maxPending: 2 })
  await engine.add(message(), 1000)
  await engine.add(message(), 1000)
  await t.rejects(engine.add(message(), 1000), { code: 'FST_OPENAPI_CALLBACKS_QUEUE_FULL', statusCode: 503, message: /holds 2 messages, its limit/ })
  time.advance(1000)
  await receiver.arrived(2)
  t.equal(receiver.received.length, 2, 'the two kept are sent')
  t.throws(() => createMemoryEngine({ maxPending: 0 }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS' })
  t.throws(() => createMemoryEngine({ maxPending: 1.5 }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS' })
})

test('closed, it starts nothing more: what waits stays pending, with its attempt number and time', async (t) => {
  const { engine, message, time, receiver } = await setup(t, status(503))
  const sent = message()
  const armed = time.armed()
  await engine.add(sent, 0)
  await armed
  const later = message()
  await engine.add(later, 60_000)
  await engine.close()
  t.equal(time.timers(), 0, 'the timer is cleared')
  time.advance(3_600_000)
  t.equal(receiver.received.length, 1, 'nothing was sent after close()')
  t.same(await engine.pending(), [
    { message: { ...sent, attempt: 2 }, runAt: time.clock.now() - 3_600_000 + 5_000 },
    { message: later, runAt: time.clock.now() - 3_600_000 + 60_000 }
  ])
})

test('a message whose key no process here knows waits, without using an attempt, and is reported once after the grace', async (t) => {
  const { engine, message, time, receiver, entries, outcomes } = await setup(t, status(204), { unknownKeyGrace: 60_000 })
  const sent = message('webhook_renamed_post')
  let armed = time.armed()
  await engine.add(sent, 0)
  for (let round = 0; round < 4; round++) {
    time.advance(await armed)
    armed = time.armed()
  }
  await armed
  const reports = entries.filter(entry => entry.level === 50)
  t.equal(reports.length, 1, 'reported once')
  t.match(reports[0], { messageId: sent.id, key: 'webhook_renamed_post', msg: /knows its key/ })
  t.equal(receiver.received.length, 0)
  t.same(outcomes, [])
  await engine.close()
  const [pending] = await engine.pending()
  t.match(pending!.message, { id: sent.id, attempt: 1, unknownSince: sent.enqueuedAt, unknownReported: true }, 'no attempt used')
})

test('a message postponed for an unknown key goes out once a deploy brings its key, as a first attempt', async (t) => {
  const { engine, message, time, receiver, webhooks, outcome } = await setup(t, status(204))
  const renamed = defineWebhook('POST', 'renamed', {})
  const sent = message('webhook_renamed_post')
  const armed = time.armed()
  await engine.add(sent, 0)
  const delay = await armed
  webhooks.push({ key: 'webhook_renamed_post', definition: renamed })
  const finished = outcome()
  time.advance(delay)
  t.match(await finished, { messageId: sent.id, definition: renamed, outcome: 'delivered', attempts: 1 })
  t.equal(receiver.received.length, 1)
})
