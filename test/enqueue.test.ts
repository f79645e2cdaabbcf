import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter, createMemoryEngine } from '../lib/index.js'
import type { DeliveryOptions, PendingMessage } from '../lib/index.js'
import { loopbackApp } from './helpers.js'
import { startReceiver } from './receivers.js'

const Event = Type.Object({ id: Type.String() })

async function sender (delivery: DeliveryOptions = {}) {
  const made = await loopbackApp(delivery)
  return { ...made, created: made.app.webhooks.post('created', { schema: { body: Event } }) }
}

test('enqueue() validates now, answers with the message id, and delivers in the background', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, created, outcome, lines } = await sender()
  t.teardown(() => app.close())
  await app.ready()
  const delivered = outcome()
  const { id } = await app.callbacks.enqueue(created, receiver.origin, { id: 'c-1' })
  t.match(id, /^msg_/)
  t.match(await delivered, {
    messageId: id,
    definition: created,
    target: { kind: 'webhook', name: 'created', method: 'POST', url: `${receiver.origin}/` },
    outcome: 'delivered',
    attempts: 1,
    result: { outcome: 'delivered', statusCode: 200 }
  })
  t.equal(receiver.received[0]!.headers['webhook-id'], id)
  t.match(lines.find(line => line.msg === 'message delivered'), { level: 30, messageId: id, attempts: 1, host: new URL(receiver.origin).host })
})

test('a callback target resolved by a route, stored, and queued', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const router = callbackRouter()
  const done = router.post('{$request.body#/notify}/jobs/{$request.body#/id}', { name: 'job_done', schema: { body: Event } })
  const { app, outcome } = await sender()
  t.teardown(() => app.close())
  app.post('/jobs', { schema: { body: Type.Object({ id: Type.String(), notify: Type.Optional(Type.String()) }), callbacks: router.routes } }, async (request, reply) => {
    const resolved = app.callbacks.target(done, request)
    if (!resolved.ok) return reply.code(202).send({ queued: false, missing: resolved.missing })
    // the target is plain JSON: it could be stored with the job and sent from elsewhere
    const stored = JSON.parse(JSON.stringify(resolved.target))
    const { id } = await app.callbacks.enqueue(done, stored, { id: (request.body as { id: string }).id })
    return reply.code(202).send({ queued: true, id })
  })
  await app.ready()
  const delivered = outcome()
  const queued = await app.inject({ method: 'POST', url: '/jobs', payload: { id: 'j 1', notify: `${receiver.origin}/hooks` } })
  t.equal(queued.statusCode, 202)
  t.match(await delivered, { messageId: queued.json().id, outcome: 'delivered' })
  t.same(receiver.received.map(({ url, body }) => [url, body]), [['/hooks/jobs/j%201', '{"id":"j 1"}']])
  t.same((await app.inject({ method: 'POST', url: '/jobs', payload: { id: 'j-2' } })).json(), { queued: false, missing: '$request.body#/notify' })
})

test('at close, timers stop, attempts in flight get the grace period, and what is pending is reported', async (t) => {
  const receiver = await startReceiver(() => {}) // never answers
  t.teardown(() => receiver.close())
  let reported: PendingMessage[] | undefined
  // no timeout but the close's can end the attempt in flight
  const { app, created, lines, outcomes } = await sender({ closeGrace: 20, headersTimeout: 600_000, attemptTimeout: 600_000, schedule: [0, 60_000], onPending: (pending) => { reported = pending } })
  await app.ready()
  const { id } = await app.callbacks.enqueue(created, receiver.origin, { id: 'in-flight' })
  await receiver.arrived(1)
  // a second message fails now and waits an hour for its retry
  const failing = await startReceiver((_, response) => { response.writeHead(500).end() })
  t.teardown(() => failing.close())
  const waiting = await app.callbacks.enqueue(created, failing.origin, { id: 'waiting' })
  await failing.arrived(1)

  await app.close()
  t.same(outcomes, [], 'no message was finished')
  t.same(reported!.map(({ message }) => [message.id, message.attempt, JSON.parse(message.body!).id]).sort(), [
    [id, 1, 'in-flight'],
    [waiting.id, 2, 'waiting']
  ].sort(), 'both reported with their next attempt and their payload: the one cut short by close used none')
  t.same(JSON.parse(JSON.stringify(reported)), reported, 'a queued message is plain JSON: it round-trips')
  t.match(reported![0]!.message, { key: 'webhook_created_post', target: { key: 'webhook_created_post' }, headers: {}, enqueuedAt: Number })
  const warning = lines.find(line => line.msg.includes('not delivered at close'))!
  t.match(warning, { level: 40, msg: '2 queued message(s) not delivered at close; the onPending hook receives them' })
  t.same(warning.pending.sort(), [id, waiting.id].sort())
  t.match(lines.find(line => line.messageId === id && line.attempt === 1), {
    outcome: 'retryable', err: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', message: /FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED.*grace period \(closeGrace, 20 ms\) passed$/ }
  }, 'the attempt in flight was aborted after the grace period')

  await t.rejects(app.callbacks.enqueue(created, receiver.origin, { id: 'late' }), {
    code: 'FST_OPENAPI_CALLBACKS_DELIVERY_CLOSED',
    message: 'Cannot send webhook POST "created": the server is closing, so delivery has stopped'
  })
  await t.rejects(app.callbacks.send(created, receiver.origin, { id: 'late' }), { code: 'FST_OPENAPI_CALLBACKS_DELIVERY_CLOSED' })
  t.equal(receiver.received.length, 1)
})

test('with nothing pending at close, nothing to warn about; a failing onPending is logged', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, created, lines, outcome } = await sender({ onPending: () => { throw new Error('cannot persist') } })
  await app.ready()
  const delivered = outcome()
  await app.callbacks.enqueue(created, receiver.origin, { id: 'quick' })
  await delivered
  await app.close()
  t.notOk(lines.some(line => line.msg.includes('not delivered at close')))
  t.match(lines.find(line => line.level === 50), { msg: 'the onPending hook failed', err: { message: 'cannot persist' } })
})

test('an idempotencyKey gives its message one id: enqueues and fan-outs retried with it keep one message', async (t) => {
  let reported: PendingMessage[] = []
  // the first attempt waits an hour: every message is still pending at close
  const { app, created } = await sender({ schedule: [3_600_000], jitter: 0, onPending: (pending) => { reported = pending } })
  const updated = app.webhooks.post('updated', { schema: { body: Event } })
  await app.ready()
  const url = 'http://127.0.0.1:9/hooks'
  const first = await app.callbacks.enqueue(created, url, { id: 'c-1' }, { idempotencyKey: 'order-42' })
  const again = await app.callbacks.enqueue(created, url, { id: 'c-1' }, { idempotencyKey: 'order-42' })
  const other = await app.callbacks.enqueue(created, url, { id: 'c-2' }, { idempotencyKey: 'order-43' })
  const otherWebhook = await app.callbacks.enqueue(updated, url, { id: 'c-1' }, { idempotencyKey: 'order-42' })
  t.equal(again.id, first.id, 'the same key, the same id')
  t.match(first.id, /^msg_[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID (version 5) after msg_')
  t.not(other.id, first.id, 'another key, another id')
  t.not(otherWebhook.id, first.id, 'the same key for another webhook, another id')
  const fanned = await app.callbacks.fanOut(created, [
    { target: url, idempotencyKey: 'order-42' },
    { target: 'http://127.0.0.1:9/other', idempotencyKey: 'event-7:acme' },
    { target: 'http://127.0.0.1:9/other', idempotencyKey: 'event-7:acme' }
  ], { id: 'c-1' })
  t.same(fanned.map(result => result.ok && result.id), [first.id, fanned[1]!.ok && fanned[1]!.id, fanned[1]!.ok && fanned[1]!.id], 'per subscriber, the same')
  await t.rejects(app.callbacks.enqueue(created, url, { id: 'c-1' }, { idempotencyKey: '' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PARAMETERS', message: /idempotencyKey must be a non-empty string/ })
  await app.close()
  t.same(reported.map(({ message }) => message.id).sort(), [first.id, other.id, otherWebhook.id, fanned[1]!.ok && fanned[1]!.id].sort(), 'four messages kept, one per key and webhook')
  t.equal(reported.find(({ message }) => message.id === first.id)!.message.body, '{"id":"c-1"}', 'the first enqueue\'s')
})

test('an enqueue the engine refused carries the message id as a field', async (t) => {
  const { app, created } = await sender({ engine: createMemoryEngine({ maxPending: 1 }) })
  t.teardown(() => app.close())
  await app.ready()
  const kept = await app.callbacks.enqueue(created, 'http://127.0.0.1:9/hooks', { id: 'c-1' }, { idempotencyKey: 'a' })
  const refuse = async (): Promise<{ code: string, messageId: string }> => await app.callbacks.enqueue(created, 'http://127.0.0.1:9/hooks', { id: 'c-2' }, { idempotencyKey: 'b' })
    .then(() => ({ code: 'none', messageId: 'none' }), (caught: unknown) => caught as { code: string, messageId: string })
  const [refused, retried] = [await refuse(), await refuse()]
  t.match(refused, { code: 'FST_OPENAPI_CALLBACKS_QUEUE_FULL', messageId: /^msg_/ })
  t.not(refused.messageId, kept.id)
  t.equal(retried.messageId, refused.messageId, 'the id its key stands for, on every try')
  const [full] = await app.callbacks.fanOut(created, ['http://127.0.0.1:9/hooks'], { id: 'c-3' })
  t.match(full, { ok: false, error: { code: 'FST_OPENAPI_CALLBACKS_QUEUE_FULL', messageId: /^msg_/ } })
})
