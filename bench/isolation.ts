// One round of the isolation bench: `isolation.ts <memory|bullmq> <scenario> <receiver port> <count> [redis socket]`.
// Prints { perSecond }: queued deliveries to the bench receiver per second, from the first enqueue() to the last outcome.
//   alone      the plugin's defaults, one healthy receiver
//   blackhole  the same, after 200 messages to a receiver that accepts and never answers, whose share is in flight
//   one        every message to one receiver (16 at a time, 16 per receiver: the share is no bound here)
//   spread     the same messages spread over 1,000 receivers (r<n>.bench.test, resolved to 127.0.0.1 by `lookup`)
import http from 'node:http'
import type { AddressInfo, LookupFunction } from 'node:net'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import openapiCallbacks, { createMemoryEngine } from 'fastify-openapi-callbacks'
import type { DeliveryEngine, DeliveryOptions } from 'fastify-openapi-callbacks'
import { bullmqEngine } from 'fastify-openapi-callbacks/bullmq'

const [engineName = 'memory', scenario = 'alone', port = '0', countText = '4000', socket = ''] = process.argv.slice(2)
const count = Number(countText)
const RECEIVERS = 1000
const BLACKHOLE_MESSAGES = 200
const payload = { id: 'inv-1', description: 'Invoice paid', paid: true, total: 12.5 }

const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all === true) (callback as (error: null, addresses: Array<{ address: string, family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

function engine (): DeliveryEngine {
  if (engineName === 'memory') return createMemoryEngine({ maxPending: 100_000, maxPendingPerReceiver: 100_000 })
  return bullmqEngine({ connection: { path: socket }, queueName: `isolation-${scenario}-${process.pid}` })
}

async function blackhole (): Promise<{ origin: string, requests: () => number, close: () => void }> {
  let requests = 0
  const server = http.createServer(() => { requests++ })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => { server.closeAllConnections(); server.close() }
  }
}

async function main (): Promise<void> {
  let delivered = 0
  let waiting: { until: number, resolve: () => void } | undefined
  const spread = scenario === 'one' || scenario === 'spread'
  const delivery: DeliveryOptions = {
    engine: engine(),
    allowHttp: true,
    allow: ['127.0.0.1'],
    closeGrace: 0,
    onPending: () => {},
    onOutcome: ({ outcome }) => {
      if (outcome !== 'delivered') throw new Error(`a bench message ended ${outcome}`)
      delivered++
      if (waiting !== undefined && delivered >= waiting.until) waiting.resolve()
    },
    ...(spread ? { concurrency: 16, isolation: { perReceiver: 16 }, lookup: toLoopback } : {})
  }
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  await app.register(openapiCallbacks, { delivery })
  const invoicePaid = app.webhooks.post('invoice-paid', {
    schema: { body: Type.Object({ id: Type.String(), description: Type.String(), paid: Type.Boolean(), total: Type.Number() }) }
  })
  await app.ready()
  const target = (index: number): string => scenario === 'spread'
    ? `http://r${index % RECEIVERS}.bench.test:${port}/hooks/invoices`
    : `http://127.0.0.1:${port}/hooks/invoices`
  const all = (until: number): Promise<void> => new Promise(resolve => { waiting = { until, resolve } })

  // both spread scenarios first reach every receiver once, so that each round reuses the connections it opened
  if (spread) {
    const warm = all(RECEIVERS)
    for (let index = 0; index < RECEIVERS; index++) await app.callbacks.enqueue(invoicePaid, target(index), payload)
    await warm
  }
  const hole = scenario === 'blackhole' ? await blackhole() : undefined
  if (hole !== undefined) {
    for (let index = 0; index < BLACKHOLE_MESSAGES; index++) await app.callbacks.enqueue(invoicePaid, `${hole.origin}/hooks/${index}`, payload)
    // its share is in flight, hanging, before the healthy messages come
    while (hole.requests() < 8) await new Promise(resolve => setTimeout(resolve, 10))
  }
  const before = delivered
  const done = all(before + count)
  const started = performance.now()
  for (let index = 0; index < count; index++) await app.callbacks.enqueue(invoicePaid, target(index), payload)
  await done
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(JSON.stringify({ perSecond: count / seconds }) + '\n')
  hole?.close()
  await app.close()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
