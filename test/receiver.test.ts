import { test, type Test as Tap } from 'tap'
import Fastify from 'fastify'
import { request } from 'undici'
import { webhookReceiver } from '../lib/standard-webhooks/receiver.js'
import { newMessageId } from '../lib/delivery/message.js'
import { signWebhook } from '../lib/standard-webhooks/signing.js'

const KEY_OLD = Buffer.alloc(32, 0x01)
const KEY_NEW = Buffer.alloc(32, 0x02)
const SECRET_OLD = `whsec_${KEY_OLD.toString('base64')}`
const SECRET_NEW = `whsec_${KEY_NEW.toString('base64')}`
const BODY = JSON.stringify({ event: 'invoice.paid', amount: 42 })

function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

function signed (key: Buffer, body: string, timestamp = nowSeconds()): Record<string, string> {
  return { 'content-type': 'application/json', ...signWebhook([key], newMessageId(), timestamp, body) }
}

async function startServer () {
  const app = Fastify()
  const received: Array<{ route: string, body: unknown }> = []

  app.register(async (receiver) => {
    await receiver.register(webhookReceiver, { secret: SECRET_OLD })
    receiver.post('/invoices/:id', async (request) => {
      received.push({ route: request.url, body: request.body })
      return { ok: true }
    })
  })
  app.register(async (receiver) => {
    await receiver.register(webhookReceiver, { secret: [SECRET_OLD, SECRET_NEW], toleranceSeconds: 10 })
    receiver.post('/rotating', async (request) => {
      received.push({ route: request.url, body: request.body })
      return { ok: true }
    })
  })
  app.post('/open', async (request) => ({ body: request.body }))

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address')
  return { app, received, origin: `http://127.0.0.1:${address.port}` }
}

test('webhookReceiver on a real server', async (t) => {
  const { app, received, origin } = await startServer()
  t.teardown(async () => { await app.close() })

  async function post (path: string, headers: Record<string, string>, body?: string) {
    const response = await request(`${origin}${path}`, { method: 'POST', headers, body })
    return { statusCode: response.statusCode, json: await response.body.json() as Record<string, unknown> }
  }

  async function refused (t: Tap, path: string, headers: Record<string, string>, body: string | undefined, code: string) {
    const before = received.length
    const response = await post(path, headers, body)
    t.equal(response.statusCode, 401, code)
    t.match(response.json, { statusCode: 401, code, error: 'Unauthorized' }, code)
    t.equal(received.length, before, 'the handler did not run')
  }

  await t.test('a signed request reaches the handler with its parsed body', async (t) => {
    const response = await post('/invoices/inv_1', signed(KEY_OLD, BODY), BODY)
    t.same(response, { statusCode: 200, json: { ok: true } })
    t.same(received.at(-1), { route: '/invoices/inv_1', body: { event: 'invoice.paid', amount: 42 } })
  })

  await t.test('a signed request without a body is verified against the empty body', async (t) => {
    const headers = signWebhook([KEY_OLD], newMessageId(), nowSeconds(), '')
    const response = await post('/invoices/inv_2', headers)
    t.same(response, { statusCode: 200, json: { ok: true } })
    t.same(received.at(-1), { route: '/invoices/inv_2', body: undefined })
  })

  await t.test('unsigned, tampered, stale or foreign requests get 401 and never reach the handler', async (t) => {
    await refused(t, '/invoices/inv_1', { 'content-type': 'application/json' }, BODY, 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_MISSING')
    await refused(t, '/invoices/inv_1', {}, undefined, 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_MISSING')
    await refused(t, '/invoices/inv_1', signed(KEY_OLD, BODY), BODY.replace('42', '4200'),
      'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH')
    // Same JSON, other bytes: the signature covers the raw body, not its parsed value
    await refused(t, '/invoices/inv_1', signed(KEY_OLD, BODY), JSON.stringify(JSON.parse(BODY), null, 2),
      'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH')
    await refused(t, '/invoices/inv_1', signed(KEY_OLD, BODY, nowSeconds() - 3600), BODY,
      'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE')
    await refused(t, '/invoices/inv_1', signed(KEY_NEW, BODY), BODY, 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH')
    await refused(t, '/invoices/inv_1', { ...signed(KEY_OLD, BODY), 'webhook-signature': 'v1' }, BODY,
      'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MALFORMED')
  })

  await t.test('the error body says what is wrong', async (t) => {
    const response = await post('/invoices/inv_1', { 'content-type': 'application/json' }, BODY)
    t.same(response.json, {
      statusCode: 401,
      code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_MISSING',
      error: 'Unauthorized',
      message: 'Missing "webhook-id" header: a Standard Webhooks request carries webhook-id, webhook-timestamp and webhook-signature'
    })
  })

  await t.test('the context keeps Fastify\'s JSON safety and accepts JSON only', async (t) => {
    const before = received.length
    const poisoned = '{"__proto__":{"admin":true}}'
    const response = await post('/invoices/inv_1', signed(KEY_OLD, poisoned), poisoned)
    t.equal(response.statusCode, 400)
    t.equal(response.json.code, 'FST_ERR_CTP_INVALID_JSON_BODY')

    const text = await post('/invoices/inv_1', { ...signed(KEY_OLD, 'hello'), 'content-type': 'text/plain' }, 'hello')
    t.equal(text.statusCode, 415)
    t.equal(text.json.code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    t.equal(received.length, before, 'the handler did not run')
  })

  await t.test('several secrets accept either key, and the tolerance option applies', async (t) => {
    for (const key of [KEY_OLD, KEY_NEW]) {
      const response = await post('/rotating', signed(key, BODY), BODY)
      t.same(response, { statusCode: 200, json: { ok: true } })
    }
    await refused(t, '/rotating', signed(KEY_NEW, BODY, nowSeconds() - 60), BODY,
      'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE')
    // The same request passes the first context's default five minutes, where only the old key is valid
    await refused(t, '/invoices/inv_3', signed(KEY_NEW, BODY, nowSeconds() - 60), BODY,
      'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH')
    const response = await post('/invoices/inv_3', signed(KEY_OLD, BODY, nowSeconds() - 60), BODY)
    t.same(response, { statusCode: 200, json: { ok: true } })
  })

  await t.test('a malformed entry among rotated signatures is skipped: the valid one is verified', async (t) => {
    for (const broken of ['v1,not*base64!', 'v1', `v1,${Buffer.alloc(16).toString('base64')}`]) {
      // a new message each time: the receiver refuses a replay
      const headers = signed(KEY_NEW, BODY)
      const response = await post('/rotating', { ...headers, 'webhook-signature': `${broken} ${headers['webhook-signature']}` }, BODY)
      t.same(response, { statusCode: 200, json: { ok: true } }, broken)
    }
    await refused(t, '/rotating', { ...signed(KEY_NEW, BODY), 'webhook-signature': 'v1,not*base64!' }, BODY, 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MALFORMED')
  })

  await t.test('a route outside the receiver\'s context is unaffected', async (t) => {
    const json = await post('/open', { 'content-type': 'application/json' }, BODY)
    t.same(json, { statusCode: 200, json: { body: { event: 'invoice.paid', amount: 42 } } })
    const text = await post('/open', { 'content-type': 'text/plain' }, 'hello')
    t.same(text, { statusCode: 200, json: { body: 'hello' } })
  })
})

test('a bad or missing secret stops the server from starting', async (t) => {
  const cases: Array<[string | string[], RegExp]> = [
    [[SECRET_OLD, 'whsec_c2hvcnQ='], /the key is 5 bytes long/],
    [[], /none was given/]
  ]
  for (const [secret, reason] of cases) {
    const app = Fastify()
    t.teardown(async () => { await app.close() })
    app.register(async (receiver) => {
      await receiver.register(webhookReceiver, { secret })
    })
    await t.rejects(async () => { await app.ready() }, {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET',
      statusCode: 500,
      message: reason
    })
  }
})
