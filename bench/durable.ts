// Durable delivery measurements on a redis-server of bench/run.ts: `durable.ts <mode> <socket> [port]`, printing JSON.
//   enqueue:  enqueue() through the plugin against a raw queue.add() of the same bytes and job options, interleaved
//   deliver:  a worker app (deliver: true) against a raw BullMQ Worker posting the same bytes with undici, interleaved
//   memory:   Redis bytes per pending message, from INFO memory and MEMORY USAGE
//   failover: from kill -9 of the worker holding an attempt to the attempt arriving again from another worker
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
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
import { Agent, request } from 'undici'
import openapiCallbacks from 'fastify-openapi-callbacks'
import { bullmqEngine } from 'fastify-openapi-callbacks/bullmq'

const [mode = 'enqueue', socket = '', port = '0'] = process.argv.slice(2)
const payload = { id: 'inv-1', description: 'Invoice paid', paid: true, total: 12.5 }
const PARALLEL = 16
let queues = 0

const client = (): Redis => new Redis({ path: socket, maxRetriesPerRequest: null })

/** The app of every mode: one webhook; `deliver` says whether this process delivers. */
async function durableApp (queueName: string, deliver: boolean, onDelivered?: () => void): Promise<{ close: () => Promise<void>, enqueue: (url: string) => Promise<unknown> }> {
  const engine = bullmqEngine({ connection: client(), queueName })
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'Bench', version: '1.0.0' } } })
  await app.register(openapiCallbacks, {
    delivery: { engine, deliver, allowHttp: true, allow: ['127.0.0.1'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', concurrency: PARALLEL, onOutcome: onDelivered }
  })
  const invoicePaid = app.webhooks.post('invoice-paid', {
    schema: { body: Type.Object({ id: Type.String(), description: Type.String(), paid: Type.Boolean(), total: Type.Number() }) }
  })
  await app.ready()
  return { close: () => app.close(), enqueue: url => app.callbacks.enqueue(invoicePaid, url, payload as never) }
}

/** Runs `count` calls of `call`, PARALLEL at a time; calls per second. */
async function perSecond (count: number, call: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < count) await call(next++)
  }))
  return count / (Number(process.hrtime.bigint() - start) / 1e9)
}

/** The job a message becomes, as the engine adds it: the same data and options for the raw baseline. */
async function sampleJob (queueName: string): Promise<{ data: unknown, opts: JobsOptions }> {
  const app = await durableApp(queueName, false)
  const { id } = await app.enqueue('http://127.0.0.1:9/hooks') as { id: string }
  const queue = new Queue(queueName, { connection: client() })
  const job = (await queue.getJob(id))!
  const { jobId: _jobId, ...opts } = job.opts
  await Promise.all([queue.close(), app.close()])
  return { data: job.data, opts: opts as JobsOptions }
}

async function enqueueRun (): Promise<{ plugin: number[], raw: number[] }> {
  // many short rounds, alternated: the median of 15 ratios, not of 5
  const count = 2000
  const { data, opts } = await sampleJob('enqueue-sample')
  const plugin: number[] = []
  const raw: number[] = []
  const queue = new Queue('enqueue-raw', { connection: client() })
  const app = await durableApp('enqueue-plugin', false)
  let ids = 0
  const rawAdd = (): Promise<unknown> => queue.add('webhook_invoice_paid_post', data, { ...opts, jobId: `raw_${ids++}` })
  const pluginAdd = (): Promise<unknown> => app.enqueue('http://127.0.0.1:9/hooks')
  await perSecond(500, rawAdd)
  await perSecond(500, pluginAdd)
  for (let round = 0; round < 15; round++) {
    // alternate which goes first, so drift in the machine's load falls on both
    if (round % 2 === 0) {
      raw.push(await perSecond(count, rawAdd))
      plugin.push(await perSecond(count, pluginAdd))
    } else {
      plugin.push(await perSecond(count, pluginAdd))
      raw.push(await perSecond(count, rawAdd))
    }
  }
  await Promise.all([queue.close(), app.close()])
  return { plugin, raw }
}

/** Seconds until `count` completions, counted by `completed`. */
async function drain (count: number, completed: () => number): Promise<number> {
  const start = process.hrtime.bigint()
  while (completed() < count) await new Promise(resolve => setTimeout(resolve, 5))
  return Number(process.hrtime.bigint() - start) / 1e9
}

async function deliverRun (): Promise<{ plugin: number[], raw: number[] }> {
  const count = 3000
  const url = `http://127.0.0.1:${port}/hooks/invoices`
  const { data, opts } = await sampleJob('deliver-sample')
  const { body } = (data as { message: { body: string } }).message
  const agent = new Agent({ connections: PARALLEL })
  const plugin: number[] = []
  const raw: number[] = []

  async function throughEngine (): Promise<number> {
    const queueName = `deliver-plugin-${++queues}`
    const api = await durableApp(queueName, false)
    await Promise.all(Array.from({ length: count }, () => api.enqueue(url)))
    let done = 0
    const worker = await durableApp(queueName, true, () => { done++ })
    const seconds = await drain(count, () => done)
    await Promise.all([worker.close(), api.close()])
    return count / seconds
  }

  async function rawWorker (): Promise<number> {
    const queueName = `deliver-raw-${++queues}`
    const queue = new Queue(queueName, { connection: client() })
    await queue.addBulk(Array.from({ length: count }, (_, index) => ({ name: 'webhook_invoice_paid_post', data, opts: { ...opts, jobId: `raw_${index}` } })))
    let done = 0
    const worker = new Worker(queueName, async () => {
      const response = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
      await response.body.dump()
    }, { connection: client(), concurrency: PARALLEL })
    worker.on('completed', () => { done++ })
    const seconds = await drain(count, () => done)
    await Promise.all([worker.close(), queue.close()])
    return count / seconds
  }

  await rawWorker()
  await throughEngine()
  for (let round = 0; round < 3; round++) {
    if (round % 2 === 0) {
      raw.push(await rawWorker())
      plugin.push(await throughEngine())
    } else {
      plugin.push(await throughEngine())
      raw.push(await rawWorker())
    }
  }
  await agent.close()
  return { plugin, raw }
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
