// The BullMQ engine on a real redis-server, driven by a scripted EngineContext: it obeys the steps it is given.
import t from 'tap'
import type { Test } from 'tap'
import { Queue } from 'bullmq'
import { bullmqEngine } from '../lib/bullmq.js'
import type { BullmqEngineOptions } from '../lib/delivery/engines/bullmq-options.js'
import type { AttemptStep, EngineContext } from '../lib/delivery/engines/engine.js'
import type { DeliveryMessage } from '../lib/delivery/message.js'
import { MESSAGE_VERSION, newMessageId } from '../lib/delivery/message.js'
import type { AttemptResult } from '../lib/delivery/sender.js'
import { ContractViolationError, ReceiverStatusError } from '../lib/util/errors.js'
import { eventually } from './eventually.js'
import { roomForAll } from './helpers.js'
import { recordingLogger } from './receivers.js'
import { startRedis, withRedis } from './redis-server.js'
import type { RedisServer } from './redis-server.js'

type FinalStep = Extract<AttemptStep, { type: 'final' }>

const delivered: AttemptResult = { outcome: 'delivered', statusCode: 200, body: undefined }
const unavailable: AttemptResult = { outcome: 'retryable', statusCode: 503, error: new ReceiverStatusError('127.0.0.1:1', 503, 'a temporary failure') }

function message (fields: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return {
    id: newMessageId(),
    key: 'invoicePaid',
    target: { kind: 'webhook', key: 'invoicePaid', name: 'invoice-paid', method: 'POST', url: 'http://127.0.0.1:1/hooks' },
    body: '{"id":"inv-1"}',
    headers: {},
    attempt: 1,
    enqueuedAt: Date.now(),
    ...fields
  }
}

const final = (outcome: FinalStep['outcome'], m: DeliveryMessage, result: AttemptResult): FinalStep => ({ type: 'final', outcome, message: m, result })

withRedis(() => {
  let redis: RedisServer
  let queues = 0
  t.before(async () => { redis = await startRedis() })
  t.teardown(() => redis?.stop())

  /** An opened engine on a queue of its own; `script` answers each run. Closed when the test ends. */
  async function open (t: Test, script: (m: DeliveryMessage, run: number) => AttemptStep | Promise<AttemptStep>, options: Partial<BullmqEngineOptions> = {}) {
    const { log, entries } = recordingLogger()
    const runs: DeliveryMessage[] = []
    const finished: FinalStep[] = []
    const unreadable: Array<{ id: string, code: string }> = []
    const context: EngineContext = {
      concurrency: 4,
      run: async m => { runs.push(m); return await script(m, runs.length) },
      finished: step => { finished.push(step) },
      unreadable: (id, error) => { unreadable.push({ id, code: error.code }) },
      log,
      ...roomForAll
    }
    const queueName = `engine-${++queues}`
    const engine = bullmqEngine({ connection: redis.client(), queueName, ...options })
    t.teardown(() => engine.close())
    await engine.open(context)
    return { engine, runs, finished, unreadable, entries, queueName }
  }

  /** Writes jobs as another release would: its own data, under BullMQ's options as the engine sets them. */
  async function writeRaw (t: Test, queueName: string, jobs: Array<[id: string, data: unknown]>): Promise<void> {
    const queue = new Queue(queueName, { connection: redis.client() })
    t.teardown(() => queue.close())
    for (const [jobId, data] of jobs) await queue.add('invoicePaid', data, { jobId, attempts: 1e9, backoff: { type: 'fixed', delay: 5000 } })
  }

  t.test('a finished message stays kept: adding its id again runs nothing', async t => {
    const { engine, runs, finished } = await open(t, m => final('delivered', m, delivered))
    const m = message()
    await engine.add(m, 0)
    await engine.work()
    await eventually(() => finished.length === 1, 'the delivery')
    await engine.add({ ...m, body: '{"id":"other"}' }, 0)
    t.match(await engine.get(m.id), { state: 'delivered', message: { body: '{"id":"inv-1"}' } }, 'a finished message is not run again')
    t.equal(runs.length, 1, 'one run')
  })

  t.test('a postpone is not an attempt; past unknownKeyLimit the message ends as unknown-key, and replay restarts it', async t => {
    let knows = false
    const { engine, runs, finished, entries } = await open(t, m => knows
      ? final('delivered', m, delivered)
      : { type: 'postpone', delay: 20, reason: 'unknown-key', message: { ...m, unknownSince: m.unknownSince ?? Date.now() } },
    { unknownKeyLimit: 200 })
    const m = message()
    await engine.add(m, 0)
    await engine.work()
    const ended = await eventually(async () => {
      const record = await engine.get(m.id)
      return record?.state === 'unknown-key' && record
    }, 'the message to end as unknown-key')
    t.ok(runs.length >= 2, 'postponed several times first')
    t.ok(runs.every(run => run.attempt === 1), 'each postpone kept attempt 1')
    t.match(ended, { attempts: 0, last: { outcome: 'unknown-key' } })
    t.ok(entries.some(entry => entry.level === 50 && /no process knew the key "invoicePaid"/.test(entry.msg)), 'logged as an error')
    t.same((await engine.failed()).messages.map(record => record.id), [m.id], 'listed among the failed')
    t.same(finished, [], 'not an outcome of an attempt')

    knows = true
    await engine.replay(m.id)
    await eventually(() => finished.length === 1, 'the replayed delivery')
    const replayed = runs.at(-1)!
    t.equal(replayed.attempt, 1, 'replayed from attempt 1')
    t.notOk('unknownSince' in replayed, 'no longer unknown')
    t.equal((await engine.get(m.id))?.state, 'delivered')
  })

  t.test('a pending message reads as waiting or delayed, with the last attempt\'s summary', async t => {
    const { engine, runs } = await open(t, m => ({ type: 'retry', delay: 60_000, message: { ...m, attempt: 2 }, result: unavailable }))
    const later = message()
    await engine.add(later, 60_000)
    t.match(await engine.get(later.id), { state: 'delayed', attempts: 0, last: undefined })
    const now = message()
    await engine.add(now, 0)
    t.match(await engine.get(now.id), { state: 'waiting' })
    await engine.work()
    await eventually(() => runs.length === 1, 'the first attempt')
    const record = await eventually(async () => {
      const found = await engine.get(now.id)
      return found?.state === 'delayed' && found
    }, 'the retry to be stored')
    t.match(record, { attempts: 1, message: { attempt: 2 }, last: { attempt: 1, outcome: 'retryable', statusCode: 503, error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS' } } })
    t.same(await engine.pending(), [], 'Redis keeps them: nothing for onPending')
  })

  t.test('a contract violation is an end the receiver acted on: replay() refuses it, and failed() does not list it', async t => {
    const violation: AttemptResult = { outcome: 'contract-violation', statusCode: 200, error: new ContractViolationError('127.0.0.1:1', 200, 'its body breaks the response schema') }
    const { engine, finished } = await open(t, m => final('contract-violation', m, violation))
    const m = message()
    await engine.add(m, 0)
    await engine.work()
    await eventually(() => finished.length === 1, 'the end')
    t.match(await engine.get(m.id), { state: 'contract-violation', attempts: 1, last: { outcome: 'contract-violation', statusCode: 200 } })
    await t.rejects(engine.replay(m.id), { code: 'FST_OPENAPI_CALLBACKS_REPLAY_REFUSED', message: /it is contract-violation/ })
    t.match(await engine.failed(), { total: 0, messages: [] })
  })

  t.test('keep.completed is in milliseconds: a delivered message is forgotten once older than it, and kept while younger', async t => {
    const deliver = (m: DeliveryMessage): FinalStep => final('delivered', m, delivered)
    // BullMQ counts ages in whole seconds: 1.5 s is kept 2 s, and forgotten when a later message ends after that
    const short = await open(t, deliver, { keep: { completed: 1500 } })
    const long = await open(t, deliver, { keep: { completed: 60_000 } })
    const firsts = [message(), message()]
    for (const [index, { engine }] of [short, long].entries()) {
      await engine.add(firsts[index]!, 0)
      await engine.work()
    }
    await eventually(() => short.finished.length === 1 && long.finished.length === 1, 'the first deliveries')
    const ended = Date.now()
    t.ok(await short.engine.get(firsts[0]!.id), 'kept at first')
    await eventually(() => Date.now() - ended > 2500, 'the short retention to pass')
    for (const { engine } of [short, long]) await engine.add(message(), 0)
    await eventually(() => short.finished.length === 2 && long.finished.length === 2, 'the second deliveries')
    t.equal(await short.engine.get(firsts[0]!.id), undefined, 'older than 1 500 ms: forgotten')
    t.match(await long.engine.get(firsts[1]!.id), { state: 'delivered' }, 'younger than 60 000 ms: kept')
  })

  t.test('a job whose data is no message ends once as unreadable: listed, read, reported, never run', async t => {
    const { engine, runs, finished, unreadable, entries, queueName } = await open(t, m => final('delivered', m, delivered))
    const valid = message()
    const damaged: Array<[string, unknown]> = [
      ['msg_no-message', { last: { attempt: 1 } }],
      ['msg_text', 'a string, not job data'],
      ['msg_attempt', { message: { ...valid, attempt: 'one' } }],
      ['msg_target', { message: { ...valid, target: { ...valid.target, url: 'not a url' } } }],
      ['msg_headers', { message: { ...valid, headers: { 'x-a': 1 } } }],
      ['msg_version', { message: { ...valid, version: 'two' } }]
    ]
    await writeRaw(t, queueName, damaged)
    t.match(await engine.get('msg_attempt'), { state: 'waiting', key: undefined, message: undefined, last: undefined }, 'before a worker sees it: waiting, with nothing to read')
    await engine.work()
    await eventually(() => unreadable.length === damaged.length, 'every damaged job to end')
    t.same(unreadable.map(end => end.id).sort(), damaged.map(([id]) => id).sort(), 'each reported once')
    t.ok(unreadable.every(end => end.code === 'FST_OPENAPI_CALLBACKS_UNREADABLE_MESSAGE'), 'with a coded error')
    const { total, messages } = await engine.failed()
    t.equal(total, damaged.length, 'failed() lists them')
    t.ok(messages.every(record => record.state === 'unreadable' && record.message === undefined && record.key === undefined), 'as unreadable, with no message')
    t.match(await engine.get('msg_attempt'), { state: 'unreadable', attempts: 0, last: { outcome: 'unreadable', error: { code: 'FST_OPENAPI_CALLBACKS_UNREADABLE_MESSAGE', message: /attempt is not a whole number/ } } })
    await t.rejects(engine.replay('msg_attempt'), { code: 'FST_OPENAPI_CALLBACKS_REPLAY_REFUSED', message: /it is unreadable/ })
    // a message added after them is delivered: the damaged ones do not come back in between
    await engine.add(valid, 0)
    await eventually(() => finished.length === 1, 'the valid message')
    t.equal(unreadable.length, damaged.length, 'no damaged job ran again')
    t.same(runs.map(run => run.id), [valid.id], 'no damaged job reached the plugin')
    t.notOk(entries.some(entry => /Redis/.test(entry.msg)), 'nothing blames Redis')
  })

  t.test('rolling upgrade: jobs of the previous format are delivered; a job of a newer format waits, reported once', async t => {
    const { engine, runs, finished, unreadable, entries, queueName } = await open(t, (m, run) => m.attempt === 1
      ? { type: 'retry', delay: 10, message: { ...m, attempt: 2 }, result: unavailable }
      : final('delivered', m, delivered))
    // the previous release's message: no version, no trace
    const previous = message({ subscriber: 'acme' })
    const newer = { ...message(), version: MESSAGE_VERSION + 1, trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, priority: 'high' }
    await writeRaw(t, queueName, [[previous.id, { message: previous }], [newer.id, { message: newer }]])
    await engine.work()
    await eventually(() => finished.length === 1, 'the previous-format message to be delivered')
    t.same(finished[0]!.message, { ...previous, version: MESSAGE_VERSION, attempt: 2 }, 'delivered as written, read into this release\'s format')
    t.same(runs.filter(run => run.id === previous.id).map(run => run.attempt), [1, 2], 'its retry was stored and run')

    const waiting = await eventually(async () => {
      const record = await engine.get(newer.id)
      return record?.state === 'delayed' && record
    }, 'the newer message to be put back')
    t.match(waiting, { key: undefined, message: undefined, attempts: 0 })
    t.notOk(runs.some(run => run.id === newer.id), 'never run here')
    t.same(unreadable, [], 'not ended')
    t.equal((await engine.failed()).total, 0, 'not failed')
    const reports = entries.filter(entry => entry.messageId === newer.id)
    t.equal(reports.length, 1, 'reported once')
    t.match(reports[0], { level: 50, msg: /waits for a process of the release that wrote it: its format 3 is newer than this release reads \(2\)/ })
    const reader = new Queue(queueName, { connection: redis.client() })
    t.teardown(() => reader.close())
    const job = await reader.getJob(newer.id)
    t.same(job?.data, { message: newer, newerReported: true }, 'its message kept untouched, for the release that reads it')
  })
})
