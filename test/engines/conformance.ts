// What every delivery engine must do, seen through the plugin's public API: one suite, run by one test file per engine
// (test/engine-*.test.ts), as undici runs one suite over each of its cache stores. Real loopback receivers, the real
// plugin and runner; the engine's own service (Redis, Postgres) started by the engine's file.
//
// A new case: one entry in CASES. A new engine: one call of engineConformance() in a test/engine-<name>.test.ts.
import t from 'tap'
import type { Test } from 'tap'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { BullmqEngine } from '../../lib/bullmq.js'
import type { DeliveryEngine } from '../../lib/delivery/engines/engine.js'
import type { Clock } from '../../lib/delivery/engines/memory-engine.js'
import type { DeliveryMessage } from '../../lib/delivery/message.js'
import type { DeliveryOptions, OutcomeEvent, PendingMessage } from '../../lib/index.js'
import { eventually } from '../eventually.js'
import { loopbackApp } from '../helpers.js'
import { manualClock } from '../manual-clock.js'
import { ok, startReceiver } from '../receivers.js'
import type { Handler, Receiver } from '../receivers.js'

/** What an operator calls on an engine that keeps ended messages: one message, the failed ones, a replay. */
export type EngineOperations = Pick<BullmqEngine, 'get' | 'failed' | 'replay'>

export interface Capabilities {
  /** The engine runs its timers on the clock `make` gives it: the suite moves time by hand. */
  clock: boolean
  /** Messages outlive the process in the engine's store; otherwise what is not finished at close goes to onPending. */
  durable: boolean
  /** The engine has get, failed and replay. */
  operations: boolean
}

export interface EngineUnderTest {
  /** Names the engine in skip reasons. */
  name: string
  /** Runs the suite when the engine's service can run here, as withRedis does (test/needs.ts); default: always. */
  needs?: (tests: () => void) => void
  /** Starts the engine's service before the suite; `teardown` stops it after. */
  setup?: () => Promise<void>
  teardown?: () => Promise<void>
  /** A new engine over `store`: engines made over one store share its messages. `clock` is for an engine that takes one. */
  make: (store: string, clock: Clock) => DeliveryEngine & Partial<EngineOperations>
  capabilities: Capabilities
}

/** One process of the app: the plugin over an engine of the test's store, ready, closed when the test ends. */
export interface Process {
  app: FastifyInstance
  engine: DeliveryEngine & Partial<EngineOperations>
  /** Every message handed to engine.add, in order. */
  added: DeliveryMessage[]
  /** What onOutcome received. */
  outcomes: OutcomeEvent[]
  /** What onPending received at close; undefined before. */
  pending: PendingMessage[] | undefined
  /** Resolves once the plugin has called engine.close(). */
  closeCalled: Promise<void>
  /** Enqueues the webhook with the payload `{ n }` to the test's receiver; resolves with its id. */
  enqueue: (n: number) => Promise<string>
  /** Resolves once onOutcome has received `count` events in all. */
  ended: (count: number) => Promise<OutcomeEvent[]>
}

export interface Harness {
  t: Test
  capabilities: Capabilities
  /** Every request on the wire reaches this receiver. */
  receiver: Receiver
  /** When each request arrived (Date.now()), in order. */
  arrivals: number[]
  /** How the next requests are answered. Default: 200. */
  answer: (handler: Handler) => void
  /** Leaves the next requests unanswered; the function it returns answers them, and the later ones, 200. */
  hold: () => () => void
  /** Resolves once `count` requests in all have arrived. */
  arrived: (count: number) => Promise<void>
  /**
   * The `count`-th request arrives no sooner than `delay` ms after `since` (by default, the request before it). With a
   * manual clock: it is not sent while the clock has moved `delay - 1`, and is once it has moved `delay`.
   */
  arrivesAfter: (count: number, delay: number, since?: number) => Promise<void>
  /** A process of the app over this test's store, with these delivery options. */
  start: (delivery?: DeliveryOptions) => Promise<Process>
  /** The engine's operations; fails the test when the engine says it has them and does not. */
  operations: (process: Process) => EngineOperations
}

export interface Case {
  name: string
  /** Run only on engines with these capabilities; skipped, saying so, on the others. */
  needs?: Partial<Capabilities>
  run: (h: Harness) => Promise<void>
}

const status = (code: number): Handler => (_, response) => { response.writeHead(code).end() }

export const CASES: Case[] = [
  {
    name: 'an enqueued message is delivered, signed with its id, and its end reported once',
    async run ({ t, start, receiver, operations, capabilities }) {
      const p = await start()
      const id = await p.enqueue(1)
      t.match(await p.ended(1), [{ messageId: id, outcome: 'delivered', attempts: 1, result: { outcome: 'delivered', statusCode: 200 } }])
      if (capabilities.operations) t.match(await operations(p).get(id), { id, state: 'delivered', attempts: 1 })
      await p.app.close()
      t.equal(p.outcomes.length, 1, 'one outcome')
      t.same(receiver.received.map(request => [request.headers['webhook-id'], request.body]), [[id, '{"n":1}']], 'one request')
      t.same(p.pending, [], 'nothing pending at close')
    }
  },
  {
    name: 'the first attempt waits schedule[0]',
    async run ({ t, start, arrivesAfter }) {
      const p = await start({ schedule: [300] })
      const since = Date.now()
      const id = await p.enqueue(1)
      await arrivesAfter(1, 300, since)
      t.match(await p.ended(1), [{ messageId: id, outcome: 'delivered', attempts: 1 }])
    }
  },
  {
    name: 'a message added again with an id the engine keeps, waiting or in flight, is left as it is',
    async run ({ t, start, receiver, hold, arrived, operations, capabilities }) {
      const release = hold()
      // one attempt at a time: the first message is in flight while the second waits
      const p = await start({ concurrency: 1 })
      const ids = [await p.enqueue(1), await p.enqueue(2)]
      await arrived(1)
      // as the plugin calls it: the same ids, other bodies
      for (const message of p.added.slice(0, 2)) await p.engine.add({ ...message, body: '{"n":9}' }, 0)
      release()
      t.match(await p.ended(2), [{ outcome: 'delivered', attempts: 1 }, { outcome: 'delivered', attempts: 1 }])
      if (capabilities.operations) {
        for (const id of ids) t.match(await operations(p).get(id), { state: 'delivered', attempts: 1, message: { body: JSON.stringify({ n: ids.indexOf(id) + 1 }) } })
      }
      await p.app.close()
      t.same(receiver.received.map(request => [request.headers['webhook-id'], request.body]), [[ids[0], '{"n":1}'], [ids[1], '{"n":2}']], 'each once, with its first body')
      t.equal(p.outcomes.length, 2, 'one outcome each')
      t.same(p.pending, [], 'no copy left pending')
    }
  },
  {
    name: 'retries follow the schedule with one webhook-id, and the end is reported once',
    async run ({ t, start, receiver, answer, arrived, arrivesAfter, operations, capabilities }) {
      answer(status(503))
      const p = await start({ schedule: [0, 100, 250] })
      const id = await p.enqueue(1)
      await arrived(1)
      await arrivesAfter(2, 100)
      await arrivesAfter(3, 250)
      t.match(await p.ended(1), [{ messageId: id, outcome: 'exhausted', attempts: 3, result: { outcome: 'retryable', statusCode: 503 } }])
      if (capabilities.operations) {
        t.match(await operations(p).get(id), { state: 'exhausted', attempts: 3, last: { attempt: 3, outcome: 'retryable', statusCode: 503 } })
      }
      await p.app.close()
      t.equal(p.outcomes.length, 1, 'one outcome')
      t.same(receiver.received.map(request => request.headers['webhook-id']), [id, id, id], 'three attempts, one webhook-id')
    }
  },
  {
    name: 'close lets the attempts in flight finish within closeGrace and records them; what waits is pending or kept',
    async run ({ t, start, receiver, hold, arrived, operations, capabilities }) {
      const release = hold()
      const p = await start({ concurrency: 2 })
      const ids = [await p.enqueue(1), await p.enqueue(2), await p.enqueue(3), await p.enqueue(4)]
      await arrived(2)
      const closing = p.app.close()
      await p.closeCalled
      // answered only once the engine is closing: it must wait for them, and fetch nothing more
      release()
      await closing
      const inFlight = receiver.received.map(request => request.headers['webhook-id'] as string)
      t.equal(inFlight.length, 2, 'nothing fetched after close')
      t.same(p.outcomes.map(event => [event.messageId, event.outcome]).sort(), inFlight.map(id => [id, 'delivered']).sort(), 'the two in flight reported before close() resolved')
      const waiting = ids.filter(id => !inFlight.includes(id))
      if (!capabilities.durable) {
        t.same(p.pending!.map(({ message }) => [message.id, message.attempt]).sort(), waiting.map(id => [id, 1]).sort(), 'onPending has the two that waited, at their first attempt')
        return
      }
      t.same(p.pending, [], 'the store keeps them: nothing for onPending')
      const next = await start()
      if (capabilities.operations) {
        for (const id of inFlight) t.match(await operations(next).get(id), { state: 'delivered', attempts: 1 }, 'recorded')
      }
      t.same((await next.ended(2)).map(event => event.messageId).sort(), [...waiting].sort(), 'the next process delivers the two that waited')
      t.equal(receiver.received.length, 4, 'each once')
    }
  },
  {
    name: 'an attempt cut short at close after closeGrace uses no attempt: pending, or kept for the next process',
    async run ({ t, start, receiver, hold, arrived, answer, capabilities }) {
      hold()
      const p = await start({ closeGrace: 50 })
      const id = await p.enqueue(1)
      await arrived(1)
      await p.app.close()
      t.same(p.outcomes, [], 'not an outcome')
      if (!capabilities.durable) {
        t.same(p.pending!.map(({ message }) => [message.id, message.attempt]), [[id, 1]], 'pending at its first attempt')
        return
      }
      t.same(p.pending, [], 'the store keeps it')
      answer(ok)
      const next = await start()
      t.match(await next.ended(1), [{ messageId: id, outcome: 'delivered', attempts: 1 }], 'the next process delivers it as attempt 1')
      t.same(receiver.received.map(request => request.headers['webhook-id']), [id, id])
    }
  },
  {
    name: 'ends other than delivered are listed by failed(), read by get(), and replayed from attempt 1 with the same id',
    needs: { operations: true },
    async run ({ t, start, receiver, answer, operations }) {
      answer(status(503))
      // two attempts each, the retry due at once: exhausted
      const p = await start({ schedule: [0, 0] })
      const ids = [await p.enqueue(1), await p.enqueue(2), await p.enqueue(3)]
      await p.ended(3)
      const engine = operations(p)
      const first = await engine.failed({ limit: 2 })
      const second = await engine.failed({ offset: 2, limit: 2 })
      t.equal(first.total, 3)
      t.equal(first.messages.length, 2)
      t.same([...first.messages, ...second.messages].map(record => record.id).sort(), [...ids].sort(), 'two pages hold all three')
      t.match(first.messages[0], { state: 'exhausted', attempts: 2, last: { attempt: 2, outcome: 'retryable', statusCode: 503, error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS' } } })
      await t.rejects(engine.failed({ offset: -1 }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAGE' })
      await t.rejects(engine.failed({ limit: 0 }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAGE' })

      answer(ok)
      await engine.replay(ids[0]!)
      t.match((await p.ended(4))[3], { messageId: ids[0], outcome: 'delivered', attempts: 1 })
      t.equal(receiver.received.at(-1)!.headers['webhook-id'], ids[0], 'the same webhook-id')
      t.match(await engine.get(ids[0]!), { state: 'delivered', attempts: 1 })
      t.equal((await engine.failed()).total, 2)
      await t.rejects(engine.replay(ids[0]!), { code: 'FST_OPENAPI_CALLBACKS_REPLAY_REFUSED', message: /it is delivered/ })
      await t.rejects(engine.replay('msg_none'), { code: 'FST_OPENAPI_CALLBACKS_MESSAGE_NOT_FOUND' })
      t.equal(await engine.get('msg_none'), undefined)
    }
  }
]

let stores = 0

async function harness (t: Test, engine: EngineUnderTest): Promise<Harness> {
  const { capabilities } = engine
  const time = manualClock()
  const store = `conformance-${++stores}`
  const arrivals: number[] = []
  let current: Handler = ok
  const receiver = await startReceiver((request, response) => {
    arrivals.push(Date.now())
    current(request, response)
  })
  t.teardown(() => receiver.close())

  const arrived = (count: number): Promise<void> =>
    eventually(() => receiver.received.length >= count, `${count} request(s) to arrive (${receiver.received.length} so far)`).then(() => {})

  async function arrivesAfter (count: number, delay: number, since = arrivals[count - 2]!): Promise<void> {
    if (!capabilities.clock) {
      await arrived(count)
      const waited = arrivals[count - 1]! - since
      t.ok(waited >= delay, `request ${count} came ${waited} ms after, not before ${delay} ms`)
      return
    }
    await eventually(() => time.timers() > 0, `the engine to set a timer for request ${count}`)
    time.advance(delay - 1)
    t.equal(receiver.received.length, count - 1, `request ${count} not sent ${delay - 1} ms after`)
    t.ok(time.timers() > 0, 'its timer still waits')
    time.advance(1)
    await arrived(count)
  }

  async function start (delivery: DeliveryOptions = {}): Promise<Process> {
    const made = engine.make(store, time.clock)
    const added: DeliveryMessage[] = []
    let closeCalled!: () => void
    const closing = new Promise<void>(resolve => { closeCalled = resolve })
    // the engine as the plugin sees it, with what it is given recorded
    const spied = new Proxy(made, {
      get (target, property) {
        const value: unknown = Reflect.get(target, property)
        if (typeof value !== 'function') return value
        if (property === 'add') {
          return (message: DeliveryMessage, delay: number) => {
            added.push(message)
            return value.call(target, message, delay)
          }
        }
        if (property === 'close') {
          return () => {
            closeCalled()
            return value.call(target)
          }
        }
        return value.bind(target)
      }
    })
    const { app, outcomes } = await loopbackApp({
      engine: spied,
      schedule: [0],
      jitter: 0,
      closeGrace: 60_000,
      onPending: pending => { started.pending = pending },
      // these cases are about storing and scheduling, all to one receiver: its share and breaker stay out of the way
      // (test/isolation-suite.ts is about them)
      isolation: { perReceiver: delivery.concurrency ?? 64, failureThreshold: 1_000 },
      ...delivery
    })
    const event = app.webhooks.post('event', { schema: { body: Type.Object({ n: Type.Integer() }) } })
    t.teardown(() => app.close())
    await app.ready()
    const started: Process = {
      app,
      engine: spied,
      added,
      outcomes,
      pending: undefined,
      closeCalled: closing,
      enqueue: async n => (await app.callbacks.enqueue(event, receiver.origin, { n })).id,
      ended: count => eventually(() => outcomes.length >= count && outcomes, `${count} outcome(s) (${outcomes.length} so far)`)
    }
    return started
  }

  return {
    t,
    capabilities,
    receiver,
    arrivals,
    answer: handler => { current = handler },
    hold () {
      const held: Array<() => void> = []
      current = (request, response) => { held.push(() => ok(request, response)) }
      return () => {
        current = ok
        for (const answer of held.splice(0)) answer()
      }
    },
    arrived,
    arrivesAfter,
    start,
    operations (process) {
      for (const method of ['get', 'failed', 'replay'] as const) {
        if (typeof process.engine[method] !== 'function') throw new Error(`${engine.name} says it has operations, but no ${method}()`)
      }
      return process.engine as EngineOperations
    }
  }
}

/** Runs every case on the engine; a case that needs what the engine has not is skipped, saying why. */
export function engineConformance (engine: EngineUnderTest): void {
  const { needs = tests => { tests() } } = engine
  needs(() => {
    if (engine.setup !== undefined) t.before(engine.setup)
    if (engine.teardown !== undefined) t.teardown(engine.teardown)
    for (const { name, needs: wanted = {}, run } of CASES) {
      const missing = Object.entries(wanted).filter(([capability, value]) => engine.capabilities[capability as keyof Capabilities] !== value).map(([capability]) => capability)
      t.test(name, missing.length > 0 ? { skip: `${engine.name} has no ${missing.join(', ')}` } : {}, async t => {
        await run(await harness(t, engine))
      })
    }
  })
}
