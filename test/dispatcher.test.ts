import { test } from 'tap'
import type { Test } from 'tap'
import { createAddressPolicy } from '../lib/address-policy/address-policy.js'
import { defineWebhook } from '../lib/definition/definition.js'
import { createSender } from '../lib/delivery/sender.js'
import { DEFAULT_SCHEDULE } from '../lib/delivery/options.js'
import { createDispatcher } from '../lib/delivery/dispatcher.js'
import type { Clock, DeliveryStore, DispatcherOptions, OutcomeEvent, QueuedMessage, ScheduledAttempt } from '../lib/delivery/dispatcher.js'
import { createMemoryStore } from '../lib/delivery/engines/memory-store.js'
import { createPayloadValidator } from '../lib/delivery/payload-validator.js'
import { newMessageId } from '../lib/standard-webhooks/signing.js'
import { recordingLogger, startReceiver } from './receivers.js'
import type { Handler, Receiver } from './receivers.js'

// Real HTTP to a receiver on 127.0.0.1; only time is driven by hand, through the dispatcher's clock

const event = defineWebhook('POST', 'event', {})

/** A clock whose time moves only when told; `armed()` resolves with the delay of the next timer set. */
function manualClock () {
  let now = Date.now()
  let id = 0
  const timers = new Map<number, { at: number, callback: () => void }>()
  let onArmed: ((delay: number) => void) | undefined
  const clock: Clock = {
    now: () => now,
    setTimeout (callback, delay) {
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

const status = (code: number, headers: Record<string, string> = {}): Handler => (_, response) => {
  response.writeHead(code, headers).end()
}

interface Setup {
  receiver: Receiver
  time: ReturnType<typeof manualClock>
  outcomes: OutcomeEvent[]
  /** Resolves with the next final outcome. */
  outcome: () => Promise<OutcomeEvent>
  /** Resolves once `count` messages in all have finished. */
  until: (count: number) => Promise<void>
  entries: Array<Record<string, any>>
  dispatcher: ReturnType<typeof createDispatcher>
  message: () => QueuedMessage
}

async function setup (t: Test, handler: Handler, options: Partial<DispatcherOptions> = {}): Promise<Setup> {
  const receiver = await startReceiver(handler)
  t.teardown(() => receiver.close())
  const agent = createAddressPolicy({ allowHttp: true, allow: ['127.0.0.1'] }).createAgent()
  t.teardown(() => agent.close())
  const { log, entries } = recordingLogger()
  const time = manualClock()
  const outcomes: OutcomeEvent[] = []
  let waiting: ((event: OutcomeEvent) => void) | undefined
  const counts: Array<{ count: number, resolve: () => void }> = []
  const dispatcher = createDispatcher({
    store: createMemoryStore(),
    sender: createSender({ agent, secrets: [], validator: createPayloadValidator(() => []), log, onAttempt: undefined }),
    schedule: DEFAULT_SCHEDULE,
    jitter: 0,
    maxRetryAfter: 3_600_000,
    concurrency: 10,
    log,
    onOutcome: (event) => {
      outcomes.push(event)
      waiting?.(event)
      for (const { count, resolve } of counts) if (outcomes.length >= count) resolve()
    },
    clock: time.clock,
    ...options
  })
  t.teardown(() => dispatcher.stop())
  return {
    receiver,
    time,
    outcomes,
    outcome: () => new Promise(resolve => { waiting = resolve }),
    until: (count) => new Promise(resolve => { counts.push({ count, resolve }) }),
    entries,
    dispatcher,
    message: () => ({
      id: newMessageId(),
      definition: event,
      target: { kind: 'webhook', name: 'event', method: 'POST', url: receiver.origin },
      body: '{"n":1}',
      enqueuedAt: time.clock.now()
    })
  }
}

test('the default schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with one webhook-id', async (t) => {
  const { receiver, time, dispatcher, outcome, message, entries } = await setup(t, status(503))
  const sent = message()
  const delays: number[] = []
  let armed = time.armed()
  const finished = outcome()
  await dispatcher.enqueue(sent)
  for (let attempt = 1; attempt < DEFAULT_SCHEDULE.length; attempt++) {
    const delay = await armed
    delays.push(delay)
    t.equal(receiver.received.length, attempt, `attempt ${attempt} made, the next one waits`)
    armed = time.armed()
    time.advance(delay)
  }
  t.same(delays, DEFAULT_SCHEDULE.slice(1))
  t.match(await finished, { messageId: sent.id, outcome: 'exhausted', attempts: 8, result: { outcome: 'retryable', statusCode: 503 } })
  t.same(new Set(receiver.received.map(request => request.headers['webhook-id'])), new Set([sent.id]), 'the same webhook-id on every attempt')
  t.same(receiver.received.map(request => request.body), Array(8).fill('{"n":1}'))
  t.same(await dispatcher.pending(), [], 'nothing left')
  t.equal(time.timers(), 0, 'no timer left')
  t.match(entries.filter(entry => entry.msg === 'fastify-openapi-callbacks: retry scheduled').map(entry => entry.attempt), [2, 3, 4, 5, 6, 7, 8])
  t.match(entries.at(-1), { level: 40, msg: 'fastify-openapi-callbacks: message exhausted', messageId: sent.id, attempts: 8, outcome: 'exhausted', kind: 'webhook', name: 'event' })
})

test('a retry that succeeds ends the message as delivered', async (t) => {
  const { receiver, time, dispatcher, outcome, message, entries } = await setup(t, status(500))
  const armed = time.armed()
  const finished = outcome()
  await dispatcher.enqueue(message())
  time.advance(await armed)
  receiver.answer(status(204))
  t.equal(receiver.received.length, 1)
  await receiver.arrived(2)
  t.match(await finished, { outcome: 'delivered', attempts: 2, result: { outcome: 'delivered', statusCode: 204 } })
  t.match(entries.at(-1), { level: 30, msg: 'fastify-openapi-callbacks: message delivered', attempts: 2 })
})

test('final answers are not retried: 410 gone, 3xx and 4xx failed, contract violations', async (t) => {
  const { receiver, time, dispatcher, outcome, message } = await setup(t, status(410))
  const cases: Array<[Handler, string]> = [
    [status(410), 'gone'],
    [status(302, { location: '/x' }), 'failed'],
    [status(404), 'failed'],
    [(_, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{}') }, 'delivered']
  ]
  for (const [handler, expected] of cases) {
    receiver.answer(handler)
    const finished = outcome()
    await dispatcher.enqueue(message())
    t.match(await finished, { outcome: expected, attempts: 1 }, expected)
  }
  t.equal(time.timers(), 0, 'no retry was scheduled')
  t.equal(receiver.received.length, cases.length)
})

test('jitter spreads each delay by up to ± its fraction', async (t) => {
  for (const [random, expected] of [[0, 2_500], [1, 7_500], [0.5, 5_000]]) {
    const { time, dispatcher, message } = await setup(t, status(503), { jitter: 0.5, random: () => random! })
    const armed = time.armed()
    await dispatcher.enqueue(message())
    t.equal(await armed, expected, `random() = ${random}`)
  }
})

test('Retry-After postpones the next attempt, up to maxRetryAfter, and never hastens it', async (t) => {
  const cases: Array<[string, number]> = [['120', 120_000], ['7200', 1_800_000], ['1', 5_000], ['Wed, 21 Oct 2015 07:28:00 GMT', 5_000]]
  for (const [retryAfter, expected] of cases) {
    const { time, dispatcher, message } = await setup(t, status(429, { 'retry-after': retryAfter }), { maxRetryAfter: 1_800_000 })
    const armed = time.armed()
    await dispatcher.enqueue(message())
    t.equal(await armed, expected, `Retry-After: ${retryAfter}`)
  }
})

test('a wait beyond what a timer can hold wakes early and waits again', async (t) => {
  const month = 30 * 24 * 3_600_000
  const { receiver, time, dispatcher, message } = await setup(t, status(503), { schedule: [0, month] })
  let armed = time.armed()
  await dispatcher.enqueue(message())
  const first = await armed
  t.equal(first, 2 ** 31 - 1)
  armed = time.armed()
  time.advance(first)
  t.equal(await armed, month - first, 'armed again for the rest')
  t.equal(receiver.received.length, 1)
})

test('concurrency bounds the attempts in flight; the others wait in the store', async (t) => {
  const store = createMemoryStore()
  let taken = 0
  const counting: DeliveryStore = {
    ...store,
    take (now, limit) {
      const result = store.take(now, limit) as { due: ScheduledAttempt[], nextRunAt: number | undefined }
      taken += result.due.length
      return result
    }
  }
  const held: Array<() => void> = []
  const { receiver, dispatcher, until, message, outcomes } = await setup(t, (_, response) => {
    held.push(() => response.writeHead(204).end())
  }, { concurrency: 2, store: counting })
  for (let i = 0; i < 5; i++) await dispatcher.enqueue(message())
  await receiver.arrived(2)
  t.equal(taken, 2, 'two attempts taken from the store, three left waiting')
  held.shift()!()
  await receiver.arrived(3)
  t.equal(taken, 3, 'one finished, one more started')
  receiver.answer((_, response) => { response.writeHead(204).end() })
  const all = until(5)
  for (const release of held) release()
  await all
  t.equal(taken, 5)
  t.same(outcomes.map(event => event.outcome), Array(5).fill('delivered'))
})

test('the store failing is logged, never thrown', async (t) => {
  const store = createMemoryStore()
  const failing: DeliveryStore = {
    ...store,
    remove () { throw new Error('disk full') }
  }
  const { receiver, dispatcher, message, entries } = await setup(t, status(204), { store: failing })
  await dispatcher.enqueue(message())
  await receiver.arrived(1)
  await dispatcher.pending()
  t.match(entries.find(entry => entry.level === 50), { msg: 'fastify-openapi-callbacks: the delivery store failed to record an attempt', err: { message: 'disk full' } })

  const broken: DeliveryStore = { ...createMemoryStore(), take: () => Promise.reject(new Error('connection lost')) }
  const second = await setup(t, status(204), { store: broken })
  await second.dispatcher.enqueue(second.message())
  await second.dispatcher.pending()
  t.match(second.entries.find(entry => entry.level === 50), { msg: 'fastify-openapi-callbacks: the delivery store failed to give the attempts due', err: { message: 'connection lost' } })
})

test('stopped, it starts nothing more: what it took or keeps waiting stays pending', async (t) => {
  const store = createMemoryStore()
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  const gated: DeliveryStore = { ...store, take: async (now, limit) => { await gate; return store.take(now, limit) } }
  const { receiver, dispatcher, message, time } = await setup(t, status(204), { store: gated })
  const first = message()
  await dispatcher.enqueue(first)
  // woken while the store is still answering: one more pump follows the first
  const second = message()
  await dispatcher.enqueue(second)
  dispatcher.stop()
  release()
  const pending = await dispatcher.pending()
  t.same(pending.map(({ message, attempt }) => [message.id, attempt]), [[first.id, 1], [second.id, 1]])
  t.equal(receiver.received.length, 0, 'nothing was sent after stop()')
  t.equal(time.timers(), 0)
})

test('a retry waiting when stopped is pending, with its attempt number and time', async (t) => {
  const { dispatcher, message, time } = await setup(t, status(503))
  const sent = message()
  const armed = time.armed()
  await dispatcher.enqueue(sent)
  await armed
  dispatcher.stop()
  t.equal(time.timers(), 0, 'the timer is cleared')
  t.same(await dispatcher.pending(), [{ message: sent, attempt: 2, runAt: time.clock.now() + 5_000 }])
})

test('the memory store hands out due attempts earliest first, each once until added again', async (t) => {
  const store = createMemoryStore()
  const at = (id: string, runAt: number) => ({ message: { id } as QueuedMessage, attempt: 1, runAt })
  store.add(at('late', 30))
  store.add(at('early', 10))
  store.add(at('tie', 10))
  store.add(at('future', 100))
  t.same(store.take(5, 10), { due: [], nextRunAt: 10 })
  const first = store.take(30, 2) as { due: ScheduledAttempt[], nextRunAt: number | undefined }
  t.same(first.due.map(({ message }) => message.id), ['early', 'tie'], 'earliest first, ties in order of adding')
  t.equal(first.nextRunAt, 30)
  t.same(store.take(30, 10), { due: [at('late', 30)], nextRunAt: 100 })
  t.same(store.take(1000, 10), { due: [at('future', 100)], nextRunAt: undefined })
  t.same(store.take(1000, 10), { due: [], nextRunAt: undefined }, 'taken attempts are not handed out again')
  store.add({ ...at('tie', 50), attempt: 2 })
  store.remove('early')
  t.same((store.pending() as ScheduledAttempt[]).map(({ message, attempt }) => [message.id, attempt]), [['late', 1], ['tie', 2], ['future', 1]])
  t.same(store.take(1000, 10), { due: [{ ...at('tie', 50), attempt: 2 }], nextRunAt: undefined })
})
