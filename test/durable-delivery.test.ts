// Durable delivery through the real plugin: an API process that only enqueues, workers that deliver, one Redis.
import t from 'tap'
import type { Test } from 'tap'
import type { AddressInfo } from 'node:net'
import { Queue, UnrecoverableError, Worker } from 'bullmq'
import { Webhook } from 'standardwebhooks'
import { buildApp } from '../example/app.js'
import { buildExternalApi } from '../example/external-api.js'
import { bullmqEngine } from '../lib/bullmq.js'
import type { AttemptEvent, OutcomeEvent } from '../lib/index.js'
import { eventually } from './eventually.js'
import { durableApp, SECRET } from './fixtures/durable-app.js'
import type { DurableAppOptions } from './fixtures/durable-app.js'
import { startReceiver } from './receivers.js'
import type { Handler } from './receivers.js'
import { startRedis, withRedis } from './redis-server.js'
import type { RedisServer } from './redis-server.js'

const status = (code: number): Handler => (_, response) => { response.writeHead(code).end() }

withRedis(() => {
  let redis: RedisServer
  let queues = 0
  t.before(async () => { redis = await startRedis() })
  t.teardown(() => redis?.stop())

  async function app (t: Test, options: Omit<DurableAppOptions, 'socket'>) {
    const made = await durableApp({ socket: redis.socket, ...options })
    t.teardown(() => made.app.close())
    await made.app.ready()
    return made
  }

  async function receiver (t: Test, handler?: Handler) {
    const started = await startReceiver(handler)
    t.teardown(() => started.close())
    return started
  }

  /** A worker of the plugin's that ends a message stalled once (maxStalledCount 1): its outcomes and error lines. */
  async function reportingWorker (t: Test, queueName: string): Promise<{ outcomes: OutcomeEvent[], lines: Array<Record<string, any>> }> {
    const outcomes: OutcomeEvent[] = []
    const lines: Array<Record<string, any>> = []
    await app(t, {
      queueName,
      deliver: true,
      engine: { maxStalledCount: 1 },
      delivery: { onOutcome: event => { outcomes.push(event) } },
      logger: { level: 'error', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } }
    })
    return { outcomes, lines }
  }

  /** A worker takes the job and never finishes it nor renews its lock, twice: as a worker that dies mid-attempt. */
  async function stallTwice (t: Test, queueName: string, id: string): Promise<void> {
    const dying = new Worker(queueName, null, { connection: redis.client(), lockDuration: 300, stalledInterval: 200, maxStalledCount: 1 })
    t.teardown(() => dying.close())
    for (const token of ['first', 'second']) {
      t.equal((await eventually(() => dying.getNextJob(token), `the ${token} run`)).id, id)
      const stalled = new Promise(resolve => dying.once('stalled', resolve))
      dying.startStalledCheckTimer().catch(() => {})
      await stalled
    }
    await dying.close()
  }

  t.test('a message BullMQ failed by itself (stalled too often) reads as stalled, whatever was tried or ended before', async t => {
    const hooks = await receiver(t, status(503))
    const queueName = `durable-${++queues}`
    const { app: api, webhooks, engine } = await app(t, { queueName, deliver: false })
    const outcomes: OutcomeEvent[] = []
    const { app: worker } = await app(t, { queueName, deliver: true, delivery: { schedule: [0, 3_600_000], onOutcome: event => { outcomes.push(event) } } })
    const enqueue = async (n: number): Promise<string> => (await api.callbacks.enqueue(webhooks['invoice-paid']!, hooks.origin, { n })).id
    const retried = await enqueue(1)
    await eventually(async () => (await engine.get(retried))?.state === 'delayed', 'its retry to wait')
    hooks.answer(status(410))
    const replayed = await enqueue(2)
    await eventually(() => outcomes.length === 1, 'the second message to end gone')
    await worker.close()
    const untried = await enqueue(3)
    await engine.replay(replayed)
    const queue = new Queue(queueName, { connection: redis.client() })
    t.teardown(() => queue.close())
    await (await queue.getJob(retried))!.promote()
    // a worker of BullMQ's own takes each job and fails it, as BullMQ's stalled check does past maxStalledCount:
    // nothing of the plugin's is recorded with it
    const bull = new Worker(queueName, null, { connection: redis.client() })
    t.teardown(() => bull.close())
    for (const token of ['first', 'second', 'third']) {
      await (await bull.getNextJob(token))!.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), token, false)
    }
    t.match(await engine.get(untried), { id: untried, state: 'stalled', attempts: 0, last: undefined })
    t.match(await engine.get(retried), { state: 'stalled', attempts: 1, last: { outcome: 'retryable', statusCode: 503 } }, 'not its last attempt\'s outcome')
    t.match(await engine.get(replayed), { state: 'stalled', attempts: 1, last: { outcome: 'gone' } }, 'not the end it had before its replay')
    const { total, messages } = await engine.failed()
    t.equal(total, 3)
    t.same(messages.map(record => record.state), ['stalled', 'stalled', 'stalled'])
  })

  t.test('a message whose attempt stalls more than maxStalledCount times ends as stalled: onOutcome and an error log', async t => {
    const queueName = `durable-${++queues}`
    const { app: api, webhooks, engine } = await app(t, { queueName, deliver: false })
    const { id } = await api.callbacks.enqueue(webhooks['invoice-paid']!, 'http://127.0.0.1:9/hooks', { n: 1 })
    await stallTwice(t, queueName, id)
    // the next run is BullMQ's own end of it: the worker of the plugin reports it
    const { outcomes, lines } = await reportingWorker(t, queueName)
    await eventually(() => outcomes.length === 1, 'the outcome')
    t.match(outcomes[0], { messageId: id, outcome: 'stalled', attempts: 1, result: { outcome: 'retryable', statusCode: undefined, error: { code: 'FST_OPENAPI_CALLBACKS_STALLED' } } })
    t.match(lines.find(line => line.messageId === id), { level: 50, msg: /ended as stalled/, err: { code: 'FST_OPENAPI_CALLBACKS_STALLED' } })
    t.match(await engine.get(id), { id, state: 'stalled' })
  })

  t.test('a stalled message of a key this process does not know (another release\'s) is reported without its definition', async t => {
    const queueName = `durable-${++queues}`
    const { app: api, webhooks } = await app(t, { queueName, deliver: false })
    const { id } = await api.callbacks.enqueue(webhooks['invoice-refunded']!, 'http://127.0.0.1:9/hooks', { n: 1 })
    await stallTwice(t, queueName, id)
    const outcomes: OutcomeEvent[] = []
    await app(t, { queueName, deliver: true, webhooks: ['invoice-paid'], engine: { maxStalledCount: 1 }, delivery: { onOutcome: event => { outcomes.push(event) } } })
    await eventually(() => outcomes.length === 1, 'the outcome')
    t.match(outcomes[0], { messageId: id, outcome: 'stalled', definition: undefined, target: { kind: 'webhook', name: 'invoice-refunded' } })
  })

  t.test('a job whose data is no message ends as unreadable: onOutcome without a definition, an error log, nothing sent', async t => {
    const hooks = await receiver(t)
    const queueName = `durable-${++queues}`
    const queue = new Queue(queueName, { connection: redis.client() })
    t.teardown(() => queue.close())
    // one damaged job as it is, one that also stalls twice before a worker of the plugin sees it
    await queue.add('webhook_invoice_paid_post', { message: null }, { jobId: 'msg_stalled' })
    await stallTwice(t, queueName, 'msg_stalled')
    await queue.add('webhook_invoice_paid_post', { message: { id: 'msg_fresh', key: 'webhook_invoice_paid_post' } }, { jobId: 'msg_fresh' })
    const { outcomes, lines } = await reportingWorker(t, queueName)
    await eventually(() => outcomes.length === 2, 'both outcomes')
    const byId = new Map(outcomes.map(event => [event.messageId, event]))
    const unread = { outcome: 'unreadable', definition: undefined, target: undefined, attempts: 0, result: { outcome: 'failed', error: { code: 'FST_OPENAPI_CALLBACKS_UNREADABLE_MESSAGE' } } }
    t.match(byId.get('msg_fresh'), { ...unread, result: { error: { message: /target is not an object/ } } })
    t.match(byId.get('msg_stalled'), { ...unread, result: { error: { message: /it stalled, and the message is not an object/ } } })
    t.equal(lines.filter(line => line.msg.includes('ended as unreadable')).length, 2, 'one error line each')
    t.same(hooks.received, [], 'nothing sent')
  })

  t.test('an enqueue that timed out may still be stored: retried with its idempotencyKey, it keeps one message, delivered once', async t => {
    const hooks = await receiver(t)
    const queueName = `durable-${++queues}`
    const { app: api, webhooks, engine } = await app(t, { queueName, deliver: false, engine: { timeout: 200 } })
    // Redis takes the write after the engine has given up on it
    await redis.client().call('CLIENT', 'PAUSE', '1000', 'WRITE')
    const enqueue = async () => await api.callbacks.enqueue(webhooks['invoice-paid']!, hooks.origin, { n: 4 }, { idempotencyKey: 'invoice-4' })
    const error = await enqueue().then(() => undefined, (caught: unknown) => caught as { code: string, messageId: string })
    t.match(error, { code: 'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT', messageId: /^msg_/ })
    // reads wait behind the paused write on the same connection, and may time out (200 ms) on a busy machine
    const read = async () => await engine.get(error!.messageId).catch(() => undefined)
    await eventually(async () => (await read()) !== undefined, 'the late write to land')
    t.same(await enqueue(), { id: error!.messageId }, 'the retry names the same message')
    await app(t, { queueName, deliver: true })
    await eventually(async () => (await read())?.state === 'delivered', 'the delivery')
    t.same(hooks.received.map(request => request.headers['webhook-id']), [error!.messageId], 'delivered once')
  })

  t.test('the schedule, scaled down: one webhook-id, signatures others verify, hooks in the process that attempted', async t => {
    const answers = [503, 503, 200]
    const hooks = await receiver(t, (request, response) => status(answers.shift() ?? 200)(request, response))
    const queueName = `durable-${++queues}`
    const { app: api, webhooks, engine } = await app(t, { queueName, deliver: false })
    const attempts: AttemptEvent[] = []
    const outcomes: OutcomeEvent[] = []
    await app(t, { queueName, deliver: true, delivery: { schedule: [0, 50, 100], onAttempt: event => { attempts.push(event) }, onOutcome: event => { outcomes.push(event) } } })

    const { id } = await api.callbacks.enqueue(webhooks['invoice-paid']!, `${hooks.origin}/hooks`, { n: 1 })
    await eventually(() => outcomes.length === 1, 'the outcome in the worker')
    t.match(outcomes[0], { messageId: id, outcome: 'delivered', attempts: 3, result: { statusCode: 200 } })
    t.same(attempts.map(event => [event.attempt, event.result.statusCode]), [[1, 503], [2, 503], [3, 200]])
    t.same(hooks.received.map(request => request.headers['webhook-id']), [id, id, id], 'one webhook-id on every attempt')
    const verifier = new Webhook(SECRET.slice('whsec_'.length))
    for (const request of hooks.received) {
      t.same(verifier.verify(request.body, request.headers as Record<string, string>), { n: 1 }, 'standardwebhooks verifies it')
    }
    t.match(await engine.get(id), { state: 'delivered', attempts: 3, last: { outcome: 'delivered', statusCode: 200 } })
  })

  t.test('enqueue() resolves once Redis holds the message: an API process that does not deliver', async t => {
    const hooks = await receiver(t)
    const queueName = `durable-${++queues}`
    const { app: api, webhooks, engine } = await app(t, { queueName, deliver: false })
    const { id } = await api.callbacks.enqueue(webhooks['invoice-paid']!, hooks.origin, { n: 2 })
    t.match(await engine.get(id), { id, key: 'webhook_invoice_paid_post', state: 'waiting', attempts: 0, message: { body: '{"n":2}' } })
    t.same(hooks.received, [], 'nothing delivered by the API process')
    await app(t, { queueName, deliver: true })
    await eventually(() => hooks.received.length === 1, 'a worker to deliver it')
    t.equal(hooks.received[0]!.headers['webhook-id'], id)
  })

  t.test('a rolling deploy: an old worker postpones a key it does not know, without an attempt; a new one delivers it', async t => {
    const hooks = await receiver(t)
    const queueName = `durable-${++queues}`
    const { app: api, webhooks, engine } = await app(t, { queueName, deliver: false })
    const lines: Array<Record<string, any>> = []
    const logger = { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } }
    await app(t, { queueName, deliver: true, webhooks: ['invoice-paid'], delivery: { unknownKeyGrace: 0 }, logger })

    const { id } = await api.callbacks.enqueue(webhooks['invoice-refunded']!, hooks.origin, { n: 3 })
    const postponed = await eventually(async () => {
      const record = await engine.get(id)
      return record?.message?.unknownSince !== undefined && record
    }, 'the old worker to postpone it')
    t.match(postponed, { state: 'delayed', attempts: 0, message: { attempt: 1, unknownReported: true } })
    t.ok(lines.some(line => line.level === 50 && line.messageId === id && /knows its key/.test(line.msg)), 'reported by the old worker')
    t.same(hooks.received, [], 'no attempt')

    await app(t, { queueName, deliver: true })
    // the runner waits 30 s before trying an unknown key again; promoting the job stands for that wait
    const queue = new Queue(queueName, { connection: redis.client() })
    t.teardown(() => queue.close())
    await eventually(async () => {
      await (await queue.getJob(id))?.promote().catch(() => {})
      return hooks.received.length === 1
    }, 'the new worker to deliver it')
    t.equal(hooks.received[0]!.headers['webhook-id'], id)
    t.match(await eventually(async () => {
      const record = await engine.get(id)
      return record?.state === 'delivered' && record
    }, 'the delivery to be recorded'), { attempts: 1 })
  })

  t.test('the invoice example, durable: paying enqueues, a worker of the same app delivers the signed callback', async t => {
    const lines: Array<Record<string, any>> = []
    const external = await buildExternalApi({ secret: SECRET, logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
    await external.listen({ host: '127.0.0.1', port: 0 })
    t.teardown(() => external.close())
    const queueName = `durable-${++queues}`
    const delivery = { secret: SECRET, allowHttp: true, allow: ['127.0.0.1'] }
    const api = await buildApp({ queue: true, delivery: { ...delivery, engine: bullmqEngine({ connection: redis.client(), queueName }), deliver: false } })
    t.teardown(() => api.close())
    const worker = await buildApp({ queue: true, delivery: { ...delivery, engine: bullmqEngine({ connection: redis.client(), queueName }) } })
    t.teardown(() => worker.close())
    await worker.ready()
    const callbackUrl = `http://127.0.0.1:${(external.server.address() as AddressInfo).port}`
    await api.inject({ method: 'POST', url: `/invoices/?callback_url=${encodeURIComponent(callbackUrl)}`, payload: { id: 'inv-1', customer: 'Ada', total: 12.5 } })
    const paid = (await api.inject({ method: 'POST', url: '/invoices/inv-1/pay' })).json()
    t.match(paid, { msg: 'Invoice paid', callback: /^queued as msg_/ })
    const received = await eventually(() => lines.find(line => line.msg === 'external API: signed invoice callback received'), 'the external API to receive it')
    t.match(received, { invoice: 'inv-1', event: { description: 'Invoice inv-1 paid', paid: true }, webhookId: paid.callback.slice('queued as '.length) })
  })
})
