// Durable delivery measurements on a redis-server of bench/run.ts: `durable.ts <mode> <socket> [port]`, printing JSON.
//   enqueue:  enqueue() through the plugin against a raw queue.add() of the same bytes and job options, interleaved
//   deliver:  a worker app (deliver: true) against a raw BullMQ Worker posting the same bytes and headers with undici, interleaved
//   memory:   Redis bytes per pending message, from INFO memory and MEMORY USAGE
//   failover: from kill -9 of the worker holding an attempt to the attempt arriving again from another worker
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { once } from 'node:events'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import { Queue, Worker } from 'bullmq'
import type { JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'
import { Agent } from 'undici'
import { Webhook } from 'standardwebhooks'
import openapiCallbacks from 'fastify-openapi-callbacks'
import { bullmqEngine } from 'fastify-openapi-callbacks/bullmq'

const [mode = 'enqueue', socket = '', port = '0'] = process.argv.slice(2)
const payload = { id: 'inv-1', description: 'Invoice paid', paid: true, total: 12.5 }
const PARALLEL = 16

const client = (): Redis => new Redis({ path: socket, maxRetriesPerRequest: null })

/** The app of every mode: one webhook; `deliver` says whether this process delivers. One receiver, as the bare worker: its share is the whole concurrency. */
async function durableApp (queueName: string, deliver: boolean, onDelivered?: () => void): Promise<{ close: () => Promise<void>, enqueue: (url: string) => Promise<unknown> }> {
  const engine = bullmqEngine({ connection: client(), queueName })
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  await app.register(openapiCallbacks, {
    delivery: { engine, deliver, allowHttp: true, allow: ['127.0.0.1'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', concurrency: PARALLEL, isolation: { perReceiver: PARALLEL }, onOutcome: onDelivered }
  })
  const invoicePaid = app.webhooks.post('invoice-paid', {
    schema: { body: Type.Object({ id: Type.String(), description: Type.String(), paid: Type.Boolean(), total: Type.Number() }) }
  })
  await app.ready()
  return { close: () => app.close(), enqueue: url => app.callbacks.enqueue(invoicePaid, url, payload as never) }
}

/** Runs `count` calls of `call`, PARALLEL at a time; calls per second. */
async function perSecond (count: number, call: () => Promise<unknown>): Promise<number> {
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next++ < count) await call()
  }))
  return count / (Number(process.hrtime.bigint() - start) / 1e9)
}

/** The job a message becomes, as the engine adds it: the same data and options for the raw baseline. */
async function sampleJob (queueName: string, url: string): Promise<{ data: unknown, opts: JobsOptions }> {
  const app = await durableApp(queueName, false)
  const { id } = await app.enqueue(url) as { id: string }
  const queue = new Queue(queueName, { connection: client() })
  const job = (await queue.getJob(id))!
  const { jobId: _jobId, ...opts } = job.opts
  await Promise.all([queue.close(), app.close()])
  return { data: job.data, opts: opts as JobsOptions }
}

async function enqueueRun (): Promise<{ plugin: number[], raw: number[] }> {
  // 15 rounds, alternated, each long enough (about a quarter of a second) that a pause of the collector is not most of it
  const count = 4000
  const rounds = 15
  const { data, opts } = await sampleJob('enqueue-sample', 'http://127.0.0.1:9/hooks')
  const plugin: number[] = []
  const raw: number[] = []
  const queue = new Queue('enqueue-raw', { connection: client() })
  const pluginQueue = new Queue('enqueue-plugin', { connection: client() })
  const app = await durableApp(pluginQueue.name, false)
  // ids of the plugin's form, made before: Redis keeps keys of the same length, and the bare add makes no id
  const ids = Array.from({ length: 500 + rounds * count }, () => `msg_${randomUUID()}`)
  const rawAdd = (): Promise<unknown> => queue.add('webhook_invoice_paid_post', data, { ...opts, jobId: ids.pop()! })
  const pluginAdd = (): Promise<unknown> => app.enqueue('http://127.0.0.1:9/hooks')
  // each round starts on empty queues: Redis holds as much, and grows no table, whichever runs first
  const measured = async (add: () => Promise<unknown>): Promise<number> => {
    const result = await perSecond(count, add)
    await Promise.all([queue.drain(), pluginQueue.drain()])
    return result
  }
  await Promise.all([perSecond(500, rawAdd), perSecond(500, pluginAdd)])
  await Promise.all([queue.drain(), pluginQueue.drain()])
  for (let round = 0; round < rounds; round++) {
    // alternate which goes first, so drift in the machine's load falls on both
    if (round % 2 === 0) {
      raw.push(await measured(rawAdd))
      plugin.push(await measured(pluginAdd))
    } else {
      plugin.push(await measured(pluginAdd))
      raw.push(await measured(rawAdd))
    }
  }
  await Promise.all([queue.close(), pluginQueue.close(), app.close()])
  return { plugin, raw }
}

async function deliverRun (): Promise<{ plugin: number[], raw: number[] }> {
  const count = 2000
  const url = `http://127.0.0.1:${port}/hooks/invoices`
  const { data, opts } = await sampleJob('deliver-sample', url)
  const { message } = data as { message: { id: string, key: string, body: string, headers: Record<string, string> } }
  const { origin, pathname: path } = new URL(url)
  // the headers the engine sends, signed once: the bare worker pays neither signing nor a message id
  const timestamp = new Date()
  const headers = [...Object.entries(message.headers).flat(), 'webhook-id', message.id, 'webhook-timestamp', String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature', new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign(message.id, timestamp, message.body)]
  const agent = new Agent({ connections: PARALLEL })
  let left = 0
  let drained: () => void = () => {}
  const completed = (): void => { if (--left === 0) drained() }

  // both workers stay up for the whole run, each on its own queue, paused between rounds: a round adds its jobs, then
  // resumes the queue and times until the last is done, so neither's start-up nor the adding falls in a round
  const pluginQueue = new Queue('deliver-plugin', { connection: client() })
  const rawQueue = new Queue('deliver-raw', { connection: client() })
  await Promise.all([pluginQueue.pause(), rawQueue.pause()])
  const worker = await durableApp(pluginQueue.name, true, completed)
  // the engine's BullMQ options, and the strongest bare POST: agent.request({ origin, path }), as the engine's sender
  const raw = new Worker(rawQueue.name, async () => {
    const response = await agent.request({ origin, path, method: 'POST', headers, body: message.body })
    await response.body.dump()
    if (response.statusCode !== 200) throw new Error(`the receiver answered ${response.statusCode}`)
  }, { connection: client(), concurrency: PARALLEL, lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 10 })
  raw.on('completed', completed)
  await raw.waitUntilReady()

  async function round (queue: Queue): Promise<number> {
    // the same job for both, each with its own id, as enqueue() makes it
    await queue.addBulk(Array.from({ length: count }, () => {
      const id = `msg_${randomUUID()}`
      return { name: message.key, data: { message: { ...message, id } }, opts: { ...opts, jobId: id } }
    }))
    left = count
    const done = new Promise<void>(resolve => { drained = resolve })
    const start = process.hrtime.bigint()
    await queue.resume()
    await done
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    await queue.pause()
    return count / seconds
  }

  const plugin: number[] = []
  const bare: number[] = []
  await round(rawQueue)
  await round(pluginQueue)
  for (let index = 0; index < 9; index++) {
    // alternate which goes first, so drift in the machine's load falls on both
    if (index % 2 === 0) {
      bare.push(await round(rawQueue))
      plugin.push(await round(pluginQueue))
    } else {
      plugin.push(await round(pluginQueue))
      bare.push(await round(rawQueue))
    }
  }
  await Promise.all([worker.close(), raw.close(), pluginQueue.close(), rawQueue.close()])
  await agent.close()
  return { plugin, raw: bare }
}

async function memoryRun (): Promise<{ perMessage: number, jobKey: number }> {
  const count = 10_000
  const redis = client()
  await redis.flushall()
  const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
  const app = await durableApp('memory', false)
  const before = await used()
  let last = ''
  for (let index = 0; index < count; index += 500) {
    const added = await Promise.all(Array.from({ length: 500 }, () => app.enqueue('https://hooks.example.com/invoices/inv-1')))
    last = (added.at(-1) as { id: string }).id
  }
  const perMessage = ((await used()) - before) / count
  const jobKey = Number(await redis.call('MEMORY', 'USAGE', `bull:memory:${last}`))
  await app.close()
  redis.disconnect()
  return { perMessage, jobKey }
}

/** One worker holds an attempt (the receiver never answers it); it is killed while a second worker runs. */
async function failoverRun (): Promise<{ seconds: number, lockDuration: number, stalledInterval: number }> {
  const lockDuration = 5000
  let arrivals = 0
  let arrived: () => void = () => {}
  const server = http.createServer((_, response) => {
    arrived()
    if (++arrivals > 1) response.writeHead(200).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const queueName = `failover-${Date.now()}`
  const worker = (): ChildProcess => spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../test/fixtures/durable-worker.ts'), socket, queueName, String(lockDuration)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ready = async (child: ChildProcess): Promise<void> => { await once(child.stdout!, 'data') }
  const arrival = (): Promise<void> => new Promise(resolve => { arrived = resolve })
  const first = worker()
  await ready(first)
  const firstArrival = arrival()
  // the API side of the same app as the workers
  const { durableApp: fixtureApp } = await import('../test/fixtures/durable-app.js')
  const api = await fixtureApp({ socket, queueName, deliver: false })
  await api.app.ready()
  await api.app.callbacks.enqueue(api.webhooks['invoice-paid']!, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, { n: 1 })
  await firstArrival
  const second = worker()
  await ready(second)
  const again = arrival()
  first.kill('SIGKILL')
  const killed = process.hrtime.bigint()
  await again
  const seconds = Number(process.hrtime.bigint() - killed) / 1e9
  second.kill('SIGTERM')
  await Promise.all([once(second, 'exit'), api.app.close()])
  server.closeAllConnections()
  server.close()
  return { seconds, lockDuration, stalledInterval: lockDuration / 2 }
}

const modes: Record<string, () => Promise<unknown>> = { enqueue: enqueueRun, deliver: deliverRun, memory: memoryRun, failover: failoverRun }

modes[mode]!().then(result => {
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}, (error: unknown) => {
  console.error(error)
  process.exit(1)
})
