// The isolation cases every engine must pass, run by test/isolation-<engine>.test.ts: one receiver's trouble never
// delays another's. Real receivers on 127.0.0.1; the plugin with its default concurrency, share and breaker.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import openapiCallbacks from '../lib/index.js'
import type { DeliveryEngine, DeliveryOptions } from '../lib/index.js'
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
interface BadReceiver { origin: string, close: () => Promise<void> }

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
    return { origin, close: async () => {} }
  },
  'trickles its answer': () => server((_, response, timers) => {
    response.writeHead(200, { 'content-type': 'text/plain' })
    timers.add(setInterval(() => response.write('.'), 200))
  })
}

async function server (handle: (request: http.IncomingMessage, response: http.ServerResponse, timers: Set<NodeJS.Timeout>) => void): Promise<BadReceiver> {
  const timers = new Set<NodeJS.Timeout>()
  const made = http.createServer((request, response) => { request.resume(); handle(request, response, timers) })
  await new Promise<void>(resolve => made.listen(0, '127.0.0.1', resolve))
  const { port } = made.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const timer of timers) clearInterval(timer)
      made.closeAllConnections()
      await new Promise(resolve => made.close(resolve))
    }
  }
}

/** An app on `engine` with one webhook; closed when the test ends. */
export async function isolationApp (t: Test, engine: DeliveryEngine, delivery: DeliveryOptions = {}) {
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Isolation', version: '1.0.0' } } })
  await app.register(openapiCallbacks, {
    delivery: { engine, allowHttp: true, allow: ['127.0.0.1'], closeGrace: 0, schedule: [0, 200, 3_600_000], ...delivery }
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
  // in retries mode the healthy receiver fails every first attempt: its breaker must not take that for an outage
  const { app, event } = await isolationApp(t, engine.make(), mode === 'retries' ? { isolation: { failureThreshold: 1_000 } } : {})
  const healthy = await healthyReceiver(t, mode)
  const expected = mode === 'retries' ? HEALTHY_MESSAGES * 2 : HEALTHY_MESSAGES
  const badTargets = bad === undefined ? [] : Array.from({ length: BAD_MESSAGES }, (_, n) => `${bad.origin}/hooks/${n}`)
  const healthyTargets = Array.from({ length: HEALTHY_MESSAGES }, (_, n) => `${healthy.origin}/hooks/${n}`)
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
}
