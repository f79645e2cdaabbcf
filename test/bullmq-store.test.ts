import { roomForAll } from './helpers.js'
// The BullMQ engine when Redis is misconfigured, paused, down or gone at close: warned, bounded, retried, never lost.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { Redis } from 'ioredis'
import { bullmqEngine } from '../lib/bullmq.js'
import type { BullmqEngineOptions } from '../lib/bullmq.js'
import type { AttemptStep, EngineContext } from '../lib/delivery/engines/engine.js'
import type { DeliveryMessage } from '../lib/delivery/message.js'
import { newMessageId } from '../lib/delivery/message.js'
import type { AttemptResult } from '../lib/delivery/sender.js'
import { createDeadline } from '../lib/util/deadline.js'
import { ReceiverStatusError } from '../lib/util/errors.js'
import { eventually } from './eventually.js'
import { recordingLogger } from './receivers.js'
import { startRedis, withRedis } from './redis-server.js'
import type { RedisServer } from './redis-server.js'

type FinalStep = Extract<AttemptStep, { type: 'final' }>
const delivered: AttemptResult = { outcome: 'delivered', statusCode: 200, body: undefined }
const unavailable: AttemptResult = { outcome: 'retryable', statusCode: 503, error: new ReceiverStatusError('127.0.0.1:1', 503, 'a temporary failure') }

function message (): DeliveryMessage {
  return { id: newMessageId(), key: 'invoicePaid', target: { kind: 'webhook', key: 'invoicePaid', name: 'invoice-paid', method: 'POST', url: 'http://127.0.0.1:1/hooks' }, body: '{}', headers: {}, attempt: 1, enqueuedAt: Date.now() }
}

withRedis(() => {
  async function server (t: Test, args: string[] = []): Promise<RedisServer> {
    const redis = await startRedis(args)
    t.teardown(() => redis.stop())
    return redis
  }

  function context (run: EngineContext['run'] = async m => ({ type: 'final', outcome: 'delivered', message: m, result: delivered })) {
    const { log, entries } = recordingLogger()
    const finished: FinalStep[] = []
    return { context: { concurrency: 4, run, finished: (step: FinalStep) => { finished.push(step) }, unreadable: () => {}, log, ...roomForAll }, entries, finished }
  }

  async function opened (t: Test, options: BullmqEngineOptions, run?: EngineContext['run']) {
    const engine = bullmqEngine(options)
    t.teardown(() => engine.close())
    const made = context(run)
    await engine.open(made.context)
    return { engine, ...made }
  }

  const warnings = (entries: Array<Record<string, any>>): string[] => entries.filter(entry => entry.level === 40).map(entry => entry.msg)

  t.test('open() warns when Redis would lose acknowledged messages, and is quiet when it would not', async t => {
    const good = await opened(t, { connection: (await server(t)).client() })
    t.same(warnings(good.entries), [], 'appendonly yes and noeviction: no warning')
    const bad = await opened(t, { connection: (await server(t, ['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'])).client() })
    t.match(warnings(bad.entries), [
      /Redis has appendonly no, not yes: without the append-only file, a Redis restart loses every message/,
      /Redis has maxmemory-policy allkeys-lru, not noeviction: .*an evicted job is a lost callback/
    ])
  })

  t.test('open() says so when the server forbids CONFIG, and goes on', async t => {
    const { engine, entries } = await opened(t, { connection: (await server(t, ['--rename-command', 'CONFIG', '""'])).client() })
    t.match(warnings(entries), [/could not read the Redis configuration \(CONFIG GET refused\)/])
    const m = message()
    await engine.add(m, 0)
    t.equal((await engine.get(m.id))?.state, 'waiting', 'the engine works')
  })

  t.test('an error of Redis that is no outage is logged as BullMQ reports it', async t => {
    const redis = await server(t, ['--requirepass', 'not-given'])
    const engine = bullmqEngine({ connection: { path: redis.socket }, timeout: 300 })
    t.teardown(() => engine.close())
    const made = context()
    await t.rejects(engine.open(made.context), { code: 'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT' })
    t.match(made.entries.find(entry => entry.level === 50), { msg: 'the BullMQ queue reported an error', err: { message: /NOAUTH/ } })
  })

  t.test('with no Redis, open() fails after `timeout`, and close() still returns', async t => {
    const engine = bullmqEngine({ connection: { path: '/tmp/fastify-openapi-callbacks-no-redis.sock' }, timeout: 300 })
    await t.rejects(engine.open(context().context), { code: 'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT', message: /Redis did not answer at open\(\) within 300 ms/ })
    await engine.close()
  })

  t.test('enqueue() against a paused Redis fails after `timeout` with a coded error', async t => {
    const redis = await server(t)
    const { engine } = await opened(t, { connection: redis.client(), timeout: 200 })
    await redis.client().call('CLIENT', 'PAUSE', '1000', 'WRITE')
    await t.rejects(engine.add(message(), 0), { code: 'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT', statusCode: 503 })
  })

  t.test('enqueues against a paused Redis each fail `timeout` after their own start, not with the first', async t => {
    const redis = await server(t)
    const { engine } = await opened(t, { connection: redis.client(), timeout: 1000 })
    await redis.client().call('CLIENT', 'PAUSE', '4000', 'WRITE')
    const first = engine.add(message(), 0)
    await new Promise(resolve => setTimeout(resolve, 500))
    let secondFailed = false
    const second = engine.add(message(), 0).catch((error: unknown) => {
      secondFailed = true
      throw error
    })
    await t.rejects(first, { code: 'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT' })
    await new Promise(resolve => setImmediate(resolve))
    t.notOk(secondFailed, 'the later enqueue still waits when the first fails')
    await t.rejects(second, { code: 'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT', message: /while enqueuing message msg_/ })
  })

  t.test('an attempt Redis could not record in time is run again, and reported in the log', async t => {
    const redis = await server(t)
    const admin = redis.client()
    const runs: number[] = []
    const { engine, entries, finished } = await opened(t, { connection: redis.client(), timeout: 200, recordRetryDelay: 50 }, async m => {
      runs.push(m.attempt)
      if (runs.length > 1) return { type: 'final', outcome: 'delivered', message: m, result: delivered }
      // Redis stops taking writes for longer than the engine waits for it
      await admin.call('CLIENT', 'PAUSE', '600', 'WRITE')
      return { type: 'retry', delay: 10, message: { ...m, attempt: 2 }, result: unavailable }
    })
    const m = message()
    await engine.add(m, 0)
    await engine.work()
    await eventually(() => finished.length === 1, 'the delivery after Redis came back')
    t.same(runs, [1, 2], 'the retry stored late is run, once')
    t.ok(entries.some(entry => entry.level === 50 && /an attempt could not be recorded in Redis; the message runs again in 50 ms/.test(entry.msg)), 'logged')
  })

  t.test('a client given without maxRetriesPerRequest: null can enqueue but not deliver', async t => {
    const redis = await server(t)
    const client = new Redis({ path: redis.socket })
    t.teardown(() => client.disconnect())
    const { engine } = await opened(t, { connection: client })
    await engine.add(message(), 0)
    await t.rejects(engine.work(), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', message: /maxRetriesPerRequest: null/ })
    t.equal(client.status, 'ready', 'the given client is not closed by the engine')
  })

  t.test('close() with Redis gone drops every connection after `timeout`: it never hangs, and the process exits by itself', async t => {
    const redis = await server(t)
    // with this process's own loaders (tap's), so that what close() does there counts in the coverage
    const child = spawn(process.execPath, [...process.execArgv, join(__dirname, 'fixtures/close-dead-redis.ts'), redis.socket], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.teardown(() => { child.kill('SIGKILL') })
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const code = await createDeadline(30_000, what => new Error(`close() hung: ${what} within 30 s`))(once(child, 'exit').then(([exitCode]) => exitCode), 'the child did not exit')
    t.equal(code, 0)
    t.same(JSON.parse(output), { closed: true, logged: true }, 'close() returned, and said it gave up on Redis')
  })

  t.test('after close() on a healthy Redis, a worker process exits at once: no connection is left to end twice', async t => {
    const redis = await server(t)
    const child = spawn(process.execPath, [...process.execArgv, join(__dirname, 'fixtures/close-exit.ts'), redis.socket], { stdio: ['ignore', 'pipe', 'inherit'] })
    t.teardown(() => { child.kill('SIGKILL') })
    let closedAt: number | undefined
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('closed')) closedAt ??= performance.now() })
    const [code] = await createDeadline(30_000, what => new Error(`${what} within 30 s`))(once(child, 'exit'), 'the child did not exit')
    const lag = performance.now() - closedAt!
    t.equal(code, 0)
    // ioredis waits 2 s for a socket it ends twice; an exit takes some milliseconds, many on a loaded machine
    t.ok(lag < 1500, `exited ${Math.round(lag)} ms after close() returned`)
  })

  t.test('a 2-second Redis outage logs the change of state, lost then back, not every reconnect', async t => {
    const redis = await server(t)
    const { engine, entries } = await opened(t, { connection: { path: redis.socket } })
    await engine.work()
    await redis.kill()
    await new Promise(resolve => setTimeout(resolve, 2000))
    await redis.restart()
    await eventually(() => entries.some(entry => /connection to Redis is back/.test(entry.msg)), 'the line saying Redis is back')
    const lines = entries.filter(entry => entry.level >= 40).map(entry => entry.msg)
    t.ok(lines.length <= 4, `a few lines, not one per reconnect: ${JSON.stringify(lines)}`)
    t.match(lines, [/lost the connection to Redis/])
  })
})
