// The isolation cases every engine must pass, run by test/isolation-<engine>.test.ts: one receiver's trouble never
// delays another's. Real receivers on 127.0.0.1, the plugin's default concurrency and share. Breaker cool-downs are
// short, and every timing assertion on them is a lower bound: a slow machine cannot make one fail.
import http from 'node:http'
import type { AddressInfo, LookupFunction } from 'node:net'
import type { Test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import openapiCallbacks from '../lib/index.js'
import type { DeliveryEngine, DeliveryOptions } from '../lib/index.js'
import type { AttemptEvent, ReceiverUnhealthyEvent } from '../lib/index.js'
import { eventually } from './eventually.js'
import { startReceiver } from './receivers.js'
import type { Handler, Receiver } from './receivers.js'

/** An engine to run the cases on: a fresh one for each app. */
export interface EngineUnderTest {
  name: string
  make: () => DeliveryEngine
}

const BAD_MESSAGES = 200
const HEALTHY_MESSAGES = 50

/** A receiver that misbehaves in one way, on 127.0.0.1; `close` also ends what it keeps pending. */
interface BadReceiver { origin: string, requests: () => number, close: () => Promise<void> }

type BadKind = 'never answers' | 'answers after 8 s' | 'answers 503 or 429 with Retry-After' | 'refuses connections' | 'trickles its answer'

/** Each bad receiver the issue names, started on a port of its own. */
export const BAD_RECEIVERS: Record<BadKind, () => Promise<BadReceiver>> = {
  'never answers': () => server(() => {}),
  'answers after 8 s': () => server((_, response, timers) => { timers.add(setTimeout(() => response.writeHead(200).end(), 8_000)) }),
  'answers 503 or 429 with Retry-After': async () => {
    let count = 0
    return await server((_, response) => { response.writeHead(++count % 2 === 0 ? 429 : 503, { 'retry-after': '2' }).end() })
  },
  'refuses connections': async () => {
    const { origin, close } = await server(() => {})
    // nothing listens on the port any more: connecting is refused
    await close()
    return { origin, requests: () => 0, close: async () => {} }
  },
  'trickles its answer': () => server((_, response, timers) => {
    response.writeHead(200, { 'content-type': 'text/plain' })
    timers.add(setInterval(() => response.write('.'), 200))
  })
}

async function server (handle: (request: http.IncomingMessage, response: http.ServerResponse, timers: Set<NodeJS.Timeout>) => void): Promise<BadReceiver> {
  const timers = new Set<NodeJS.Timeout>()
  let requests = 0
  const made = http.createServer((request, response) => { requests++; request.resume(); handle(request, response, timers) })
  await new Promise<void>(resolve => made.listen(0, '127.0.0.1', resolve))
  const { port } = made.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const timer of timers) clearInterval(timer)
      made.closeAllConnections()
      await new Promise(resolve => made.close(resolve))
    }
  }
}

/** A receiver answering `down()`'s status while it says so, then 204; the time of each arrival. */
async function flakyReceiver (t: Test, down: (arrival: number) => [number, Record<string, string>] | undefined) {
  const arrivals: number[] = []
  const handler: Handler = (_, response) => {
    arrivals.push(performance.now())
    const [status, headers] = down(arrivals.length) ?? [204, {}]
    response.writeHead(status, headers).end()
  }
  const receiver = await startReceiver(handler)
  t.teardown(() => receiver.close())
  return { receiver, arrivals }
}

/** Every host name is 127.0.0.1: several receivers on one server. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all === true) (callback as (error: null, addresses: Array<{ address: string, family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

/** An app on `engine` with one webhook, its log lines kept in `lines` when given; closed when the test ends. */
export async function isolationApp (t: Test, engine: DeliveryEngine, delivery: DeliveryOptions = {}, lines?: Array<Record<string, any>>) {
  const app = Fastify(lines === undefined ? {} : { logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Isolation', version: '1.0.0' } } })
  await app.register(openapiCallbacks, {
    delivery: { engine, allowHttp: true, allow: ['127.0.0.1'], lookup: toLoopback, closeGrace: 0, schedule: [0, 200, 3_600_000], ...delivery }
  })
  const event = app.webhooks.post('event', { schema: { body: Type.Object({ n: Type.Integer() }) } })
  await app.ready()
  t.teardown(() => app.close())
  return { app, event }
}

type Mode = 'enqueue()' | 'fanOut()' | 'retries'

/**
 * A healthy receiver that answers in about 5 ms; in `retries` mode it answers 503 to each message's first attempt,
 * so that its messages are delivered by their retries.
 */
async function healthyReceiver (t: Test, mode: Mode): Promise<Receiver> {
  const seen = new Set<string>()
  const handler: Handler = (request, response) => {
    const id = request.headers['webhook-id'] as string
    const first = !seen.has(id)
    seen.add(id)
    setTimeout(() => { response.writeHead(mode === 'retries' && first ? 503 : 204).end() }, 5)
  }
  const receiver = await startReceiver(handler)
  t.teardown(() => receiver.close())
  return receiver
}

/** How long the healthy receiver's messages take to arrive in full, with `bad` (when given) holding 200 messages queued first. */
async function healthyTime (t: Test, engine: EngineUnderTest, mode: Mode, bad: BadReceiver | undefined): Promise<number> {
  const { app, event } = await isolationApp(t, engine.make())
  const healthy = await healthyReceiver(t, mode)
  const expected = mode === 'retries' ? HEALTHY_MESSAGES * 2 : HEALTHY_MESSAGES
  const badTargets = bad === undefined ? [] : Array.from({ length: BAD_MESSAGES }, (_, n) => `${bad.origin}/hooks/${n}`)
  // in retries mode each message goes to a receiver of its own (a host name of its own, on the one server), which
  // fails its first attempt once: a failure its breaker forgives
  const healthyTargets = Array.from({ length: HEALTHY_MESSAGES }, (_, n) => mode === 'retries'
    ? `http://healthy-${n}.test:${new URL(healthy.origin).port}/hooks/${n}`
    : `${healthy.origin}/hooks/${n}`)
  let started: number
  if (mode === 'fanOut()') {
    // one event to every subscriber, the bad receiver's first
    started = performance.now()
    const results = await app.callbacks.fanOut(event, [...badTargets, ...healthyTargets], { n: 1 })
    t.ok(results.every(result => result.ok), 'every subscriber is queued')
  } else {
    for (const target of badTargets) await app.callbacks.enqueue(event, target, { n: 1 })
    started = performance.now()
    for (const target of healthyTargets) await app.callbacks.enqueue(event, target, { n: 1 })
  }
  await healthy.arrived(expected)
  return performance.now() - started
}

/**
 * Each bad receiver, with 200 messages queued before the healthy receiver's, leaves the healthy receiver's messages
 * within twice their time without it, plus a second: through enqueue(), fanOut(), and retries.
 */
export function isolationSuite (t: Test, engine: EngineUnderTest): void {
  for (const mode of ['enqueue()', 'fanOut()', 'retries'] as const) {
    t.test(`${engine.name}, ${mode}: a bad receiver leaves a healthy one its pace`, async t => {
      // the better of two runs: the first also pays for warming up
      const alone = Math.min(await healthyTime(t, engine, mode, undefined), await healthyTime(t, engine, mode, undefined))
      for (const [kind, start] of Object.entries(BAD_RECEIVERS)) {
        await t.test(kind, async t => {
          const bad = await start()
          t.teardown(() => bad.close())
          const time = await healthyTime(t, engine, mode, bad)
          t.ok(time <= 2 * alone + 1_000, `the healthy receiver's ${HEALTHY_MESSAGES} messages took ${Math.round(time)} ms, ${Math.round(alone)} ms without it`)
        })
      }
    })
  }

  t.test(`${engine.name}: an open breaker holds its receiver's messages without attempts; one probe after each cool-down; success closes it; the hook fires once`, async t => {
    // the first 3 attempts and the first two probes find it down (503); the third probe finds it up
    const { receiver, arrivals } = await flakyReceiver(t, arrival => arrival <= 5 ? [503, {}] : undefined)
    const attempts: AttemptEvent[] = []
    const unhealthy: ReceiverUnhealthyEvent[] = []
    const lines: Array<Record<string, any>> = []
    const { app, event } = await isolationApp(t, engine.make(), {
      isolation: { perReceiver: 1, failureThreshold: 3, coolDown: 300, maxCoolDown: 1_000, unhealthyAfter: 500 },
      schedule: [0, 3_600_000],
      onAttempt: attempt => { attempts.push(attempt) },
      onReceiverUnhealthy: event => { unhealthy.push(event) }
    }, lines)
    for (let n = 0; n < 10; n++) await app.callbacks.enqueue(event, `${receiver.origin}/hooks`, { n })
    await receiver.arrived(3)
    // the breaker is open for 300 ms: nothing goes out meanwhile
    await new Promise(resolve => setTimeout(resolve, 150))
    t.equal(arrivals.length, 3, 'no attempt while the breaker is open')
    t.equal(attempts.length, 3, 'the held messages made no attempts')
    // 5 probes' worth of arrivals, then the 5 messages left once it closed
    await receiver.arrived(10)
    const [, , third, firstProbe, secondProbe, thirdProbe] = arrivals as [number, number, number, number, number, number]
    t.ok(firstProbe - third >= 290, `the first probe waited the cool-down (${Math.round(firstProbe - third)} ms)`)
    t.ok(secondProbe - firstProbe >= 590, `a failed probe doubles it (${Math.round(secondProbe - firstProbe)} ms)`)
    t.ok(thirdProbe - secondProbe >= 990, `up to maxCoolDown (${Math.round(thirdProbe - secondProbe)} ms)`)
    await eventually(() => attempts.length === 10, 'the 10 attempts reported')
    t.same(attempts.map(attempt => attempt.result.statusCode), [503, 503, 503, 503, 503, 204, 204, 204, 204, 204], 'every attempt, and no more: the held messages went out once it closed')
    t.equal(unhealthy.length, 1, 'onReceiverUnhealthy once, though the breaker opened three times')
    t.equal(unhealthy[0]!.receiver, receiver.origin)
    t.equal(unhealthy[0]!.failures, 5)
    t.equal(unhealthy[0]!.error?.code, 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS')
    t.ok(unhealthy[0]!.since <= Date.now() - 500, 'after the breaker had been open for unhealthyAfter')
    const transitions = lines.filter(line => /circuit breaker|probe goes out|receiver unhealthy/.test(line.msg)).map(line => line.msg)
    t.same(transitions, [
      'receiver down: its circuit breaker opened; its messages wait without attempts',
      'receiver cooled down: one probe goes out',
      'receiver still down: the probe failed; its circuit breaker opened again',
      'receiver cooled down: one probe goes out',
      'receiver still down: the probe failed; its circuit breaker opened again',
      'receiver unhealthy: its circuit breaker has stayed open; onReceiverUnhealthy is called',
      'receiver cooled down: one probe goes out',
      'receiver answering again: its circuit breaker closed'
    ], 'one log line per transition, none per held message')
  })

  t.test(`${engine.name}: a breaker that stays closed: failures below the threshold, or that a success interrupts, hold nothing`, async t => {
    // every other attempt fails: never 2 in a row
    const { receiver } = await flakyReceiver(t, arrival => arrival % 2 === 1 ? [500, {}] : undefined)
    const unhealthy: ReceiverUnhealthyEvent[] = []
    const { app, event } = await isolationApp(t, engine.make(), {
      isolation: { perReceiver: 1, failureThreshold: 2, coolDown: 60_000, unhealthyAfter: 0 },
      schedule: [0, 3_600_000],
      onReceiverUnhealthy: event => { unhealthy.push(event) }
    })
    for (let n = 0; n < 20; n++) await app.callbacks.enqueue(event, `${receiver.origin}/hooks`, { n })
    await receiver.arrived(20)
    t.equal(unhealthy.length, 0, 'the breaker never opened: a minute\'s cool-down would have held the rest')
  })

  t.test(`${engine.name}: a 429 or 503 with Retry-After holds all of that receiver's messages for the wait, and no other receiver's`, async t => {
    const { receiver: slowed, arrivals } = await flakyReceiver(t, arrival => arrival === 1 ? [429, { 'retry-after': '1' }] : undefined)
    const { receiver: other, arrivals: otherArrivals } = await flakyReceiver(t, () => undefined)
    const { app, event } = await isolationApp(t, engine.make(), { isolation: { perReceiver: 1 }, schedule: [0, 3_600_000] })
    for (let n = 0; n < 4; n++) await app.callbacks.enqueue(event, `${slowed.origin}/hooks`, { n })
    await slowed.arrived(1)
    for (let n = 0; n < 4; n++) await app.callbacks.enqueue(event, `${other.origin}/hooks`, { n })
    await other.arrived(4)
    t.equal(arrivals.length, 1, 'the other receiver got its messages while this one waited')
    await slowed.arrived(4)
    t.ok(arrivals[1]! - arrivals[0]! >= 990, `its next message waited for Retry-After (${Math.round(arrivals[1]! - arrivals[0]!)} ms)`)
    t.ok(otherArrivals[3]! < arrivals[1]!)
  })

  t.test(`${engine.name}: close() aborts the attempts in flight, and the slots that frees start no other`, async t => {
    const hanging = await BAD_RECEIVERS['never answers']()
    t.teardown(() => hanging.close())
    const { app, event } = await isolationApp(t, engine.make(), { isolation: { perReceiver: 2 } })
    for (let n = 0; n < 50; n++) await app.callbacks.enqueue(event, `${hanging.origin}/hooks/${n}`, { n })
    // two attempts hang (headersTimeout is 15 s); the others wait for their slots; closeGrace is 0
    await eventually(() => hanging.requests() === 2, 'the receiver\'s two attempts')
    const started = performance.now()
    await app.close()
    const took = performance.now() - started
    t.ok(took < 5_000, `close() returned in ${Math.round(took)} ms, long before the receiver's 15 s timeout`)
    t.equal(hanging.requests(), 2, 'no attempt began once the two in flight were aborted')
  })
}
