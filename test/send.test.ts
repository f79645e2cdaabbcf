import { test } from 'tap'
import http from 'node:http'
import { AsyncLocalStorage } from 'node:async_hooks'
import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import { Webhook } from 'standardwebhooks'
import { callbackRouter, parseSecret, verifyWebhook, webhookReceiver } from '../lib/index.js'
import type { DeliveryOptions } from '../lib/index.js'
import { version } from '../package.json'
import { appWith } from './helpers.js'
import { keptAliveReceiver, startReceiver } from './receivers.js'

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
const NEXT_SECRET = `whsec_${Buffer.alloc(24, 9).toString('base64')}`

const Event = Type.Object({ id: Type.String(), paid: Type.Boolean() })
const Ack = Type.Object({ ok: Type.Boolean() })

/** An app whose plugin trusts the test receivers on 127.0.0.1, with webhooks to send. */
async function sender (delivery: DeliveryOptions = {}, level = 'info') {
  const lines: Array<Record<string, any>> = []
  const app = await appWith({
    openapi: '3.1.0',
    pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], ...delivery } },
    serverOptions: { logger: { level, stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } }
  })
  const invoicePaid = app.webhooks.post('invoice-paid', { schema: { body: Event, response: { 200: Ack } } })
  const ping = app.webhooks.post('ping')
  return { app, lines, invoicePaid, ping }
}

test('a signed webhook: verified by webhookReceiver, by verifyWebhook and by the standardwebhooks package, with either rotated key', async (t) => {
  const external = Fastify()
  const verified: unknown[] = []
  await external.register(async (scope) => {
    await scope.register(webhookReceiver, { secret: NEXT_SECRET })
    scope.post('/hooks', async (request) => {
      verified.push(request.body)
      return { ok: true }
    })
  })
  await external.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => external.close())
  const { app, lines, invoicePaid } = await sender({ secret: [SECRET, NEXT_SECRET] }, 'debug')
  t.teardown(() => app.close())
  await app.ready()

  const result = await app.callbacks.send(invoicePaid, `http://127.0.0.1:${(external.server.address() as { port: number }).port}/hooks`, { id: 'inv-1', paid: true })
  t.match(result, { outcome: 'delivered', statusCode: 200, body: { ok: true }, messageId: /^msg_/ })
  t.same(verified, [{ id: 'inv-1', paid: true }], 'the receiver verified the signature made with the second key')

  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const again = await app.callbacks.send(invoicePaid, `${receiver.origin}/raw`, { id: 'inv-2', paid: false })
  const { headers, body, method } = receiver.received[0]!
  t.equal(method, 'POST')
  t.equal(body, '{"id":"inv-2","paid":false}')
  t.equal(headers['content-type'], 'application/json')
  t.equal(headers['user-agent'], `fastify-openapi-callbacks/${version}`, 'the package and its version')
  t.equal(headers['webhook-id'], again.messageId)
  t.equal((headers['webhook-signature'] as string).split(' ').length, 2, 'one v1 signature per key')
  const signed = headers as Record<string, string>
  for (const secret of [SECRET, NEXT_SECRET]) {
    t.same(new Webhook(secret).verify(body, signed), { id: 'inv-2', paid: false }, 'standardwebhooks verifies it')
    t.doesNotThrow(() => verifyWebhook([parseSecret(secret)], signed, body))
  }
  t.match(lines.find(line => line.msg === 'attempt delivered'), {
    level: 20, messageId: result.messageId, kind: 'webhook', name: 'invoice-paid', host: /^127\.0\.0\.1:\d+$/, attempt: 1, statusCode: 200, outcome: 'delivered'
  })
})

test('without a secret, messages carry webhook-id and webhook-timestamp, unsigned; without a body schema, any JSON or none', async (t) => {
  const receiver = await startReceiver((_, response) => { response.writeHead(204).end() })
  t.teardown(() => receiver.close())
  const { app, lines, ping, invoicePaid } = await sender()
  t.teardown(() => app.close())
  await app.ready()

  t.match(await app.callbacks.send(ping, receiver.origin, undefined), { outcome: 'delivered', statusCode: 204, body: undefined })
  t.notOk(lines.some(line => line.msg === 'attempt delivered'), 'a delivered attempt is logged at debug, not at info')
  const [empty] = receiver.received
  t.equal(empty!.body, '')
  t.notOk('content-type' in empty!.headers)
  t.match(empty!.headers, { 'webhook-id': /^msg_/, 'webhook-timestamp': /^\d+$/ })
  t.notOk('webhook-signature' in empty!.headers)

  await app.callbacks.send(ping, receiver.origin, [1, 'two', { three: 3 }])
  t.equal(receiver.received[1]!.body, '[1,"two",{"three":3}]')

  // 204 is not among the declared responses (200): nothing to validate
  t.match(await app.callbacks.send(invoicePaid, receiver.origin, { id: 'x', paid: true }), { outcome: 'delivered', statusCode: 204, body: undefined })
})

test('a signed message without a body is signed over the empty body', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, ping } = await sender({ secret: SECRET })
  t.teardown(() => app.close())
  await app.ready()
  await app.callbacks.send(ping, receiver.origin, undefined)
  const { headers, body } = receiver.received[0]!
  t.equal(body, '')
  t.doesNotThrow(() => verifyWebhook([parseSecret(SECRET)], headers, ''))
})

test('a payload that breaks the body schema is refused with the failing paths, and nothing is sent', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, invoicePaid } = await sender()
  t.teardown(() => app.close())

  await t.rejects(app.callbacks.send(invoicePaid, receiver.origin, { id: 7, paid: 'yes' } as any), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD',
    statusCode: 500,
    message: 'The payload of webhook POST "invoice-paid" breaks its body schema, so nothing was sent: /id must be string; /paid must be boolean',
    validation: ['/id must be string', '/paid must be boolean']
  })
  await t.rejects(app.callbacks.enqueue(invoicePaid, receiver.origin, { id: 'a' } as any), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD',
    validation: ['/ must have required property \'paid\'']
  })
  await t.rejects(app.callbacks.send(invoicePaid, receiver.origin, undefined as any), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD',
    message: /there is none, and the definition declares a body$/
  })
  await t.rejects(app.callbacks.send(invoicePaid, receiver.origin, { id: 'a', paid: true, amount: 10n } as any), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD',
    message: /it cannot be serialised to JSON \(Do not know how to serialize a BigInt\)$/
  })
  t.equal(receiver.received.length, 0, 'nothing was sent')
  // what is validated is the JSON sent: a Date is the string it becomes
  const Stamped = Type.Object({ at: Type.String({ format: 'date-time' }) })
  const stamped = app.webhooks.post('stamped', { schema: { body: Stamped } })
  await app.ready()
  t.match(await app.callbacks.send(stamped, receiver.origin, { at: new Date(0) } as any), { outcome: 'delivered' })
  t.equal(receiver.received[0]!.body, '{"at":"1970-01-01T00:00:00.000Z"}')
})

test('body and response schemas: shared $refs, media types, 2XX and default, and schemas that cannot be used', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app } = await sender()
  t.teardown(() => app.close())
  await app.register(async (child) => {
    child.addSchema({ $id: 'Shared', type: 'object', required: ['n'], properties: { n: { type: 'integer' } } })
  })
  const shared = app.webhooks.post('shared', { schema: { body: Type.Ref('Shared'), response: { '2XX': Type.Object({ ok: Type.Literal(true) }) } } })
  const vendor = app.webhooks.post('vendor', {
    schema: {
      body: { content: { 'application/vnd.api+json': { schema: Event } } },
      response: { default: { content: { 'application/json': {} } }, 201: { content: { 'text/plain': { schema: Type.String() } } } }
    }
  })
  const empty = app.webhooks.post('empty', { schema: { response: { 200: { description: 'Nothing', type: 'null' } } } })
  const csv = app.webhooks.post('csv', { schema: { body: Type.String(), consumes: ['text/csv'] } })
  const missing = app.webhooks.post('missing', { schema: { body: Type.Ref('Missing') } })
  await app.ready()

  t.match(await app.callbacks.send(shared, receiver.origin, { n: 1 }), { outcome: 'delivered', body: { ok: true } }, 'the shared schema of a child context')
  await t.rejects(app.callbacks.send(shared, receiver.origin, { n: 1.5 }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD', validation: ['/n must be integer'] })
  t.match(await app.callbacks.send(vendor, receiver.origin, { id: 'v', paid: true }), { outcome: 'delivered', body: { ok: true } }, 'default: any JSON')
  await t.rejects(app.callbacks.send(vendor, receiver.origin, { id: 'v' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD' })
  receiver.answer((_, response) => { response.writeHead(201, { 'content-type': 'text/plain' }).end('created') })
  t.match(await app.callbacks.send(vendor, receiver.origin, { id: 'v', paid: true }), { outcome: 'delivered', statusCode: 201, body: undefined }, 'a text answer is not checked')
  receiver.answer((_, response) => { response.writeHead(200).end() })
  t.match(await app.callbacks.send(empty, receiver.origin, undefined), { outcome: 'delivered', body: undefined }, 'a null response has no body')
  await t.rejects(app.callbacks.send(csv, receiver.origin, 'a,b'), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: 'webhook POST "csv": its body has no JSON media type, and fastify-openapi-callbacks sends JSON bodies only'
  })
  await t.rejects(app.callbacks.send(missing, receiver.origin, {}), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: /^webhook POST "missing": its body schema cannot be compiled to validate what is sent and received \(can't resolve reference Missing/
  })
  t.equal(receiver.received.length, 4)
})

test('send() checks a target like target(): wrong shapes and forbidden URLs are refused before anything is sent', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const router = callbackRouter()
  const notify = router.post('{$request.body#/url}', { name: 'notify' })
  // named by the record it is put in, on the route
  const unnamed = callbackRouter().post('{$request.body#/url}')
  const { app, invoicePaid, ping } = await sender()
  t.teardown(() => app.close())
  const Url = Type.Object({ url: Type.String() })
  for (const path of ['/a', '/b']) {
    app.post(path, { schema: { body: Url, callbacks: { notify, by_record: unnamed } } }, async (request) => ({
      notify: app.callbacks.target(notify, request),
      unnamed: app.callbacks.target(unnamed, request)
    }))
  }
  await app.ready()
  const resolve = async (path: string) => (await app.inject({ method: 'POST', url: path, payload: { url: receiver.origin } })).json()
  const onA = await resolve('/a')
  const onB = await resolve('/b')
  const target = onA.notify.target
  t.match(target, { kind: 'callback', key: 'post_a_notify_post', name: 'notify', method: 'POST', url: `${receiver.origin}/` }, 'the key is the callback operation\'s operationId')
  t.equal(onB.notify.target.key, 'post_b_notify_post', 'one key per route that declares the definition')
  t.match(onA.unnamed.target, { key: 'post_a_by_record_post', name: 'by_record' })

  t.match(await app.callbacks.send(notify, target, {}), { outcome: 'delivered' }, 'a callback target, as stored')
  t.match(await app.callbacks.send(ping, { kind: 'webhook', key: 'webhook_ping_post', name: 'ping', method: 'POST', url: receiver.origin }, undefined), { outcome: 'delivered' })
  t.match(await app.callbacks.send(unnamed, onB.unnamed.target, {}), { outcome: 'delivered' }, 'the name given by the record')
  const unknownKey = /the target's key "[^"]*" names no callback or webhook of this app$/
  const another = (owner: string) => new RegExp(`the target's key "[^"]*" belongs to ${owner.replace(/[{}$()]/g, '\\$&')}, another definition$`)
  const refused: Array<[unknown, unknown, string, RegExp]> = [
    [notify, receiver.origin, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /callback POST \{\$request.body#\/url\} \("notify"\): expected \{ kind: 'callback', key, name, method, url \}, as fastify.callbacks.target\(\) returns it$/],
    [notify, { ...target, key: undefined }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /expected \{ kind: 'callback', key, name, method, url \}/],
    [unnamed, { ...target, url: 1 }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /^Invalid target for callback POST \{\$request.body#\/url\}: expected/],
    [ping, 42, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /webhook POST "ping": expected the subscriber's URL, or \{ kind: 'webhook', key, name, method, url \}$/],
    [ping, { kind: 'webhook', method: 'POST', url: receiver.origin }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /expected the subscriber's URL/],
    [ping, null, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /expected the subscriber's URL/],
    [notify, { ...target, kind: 'webhook' }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /the target is for webhook POST "notify", but its key "post_a_notify_post" is callback POST "notify"$/],
    [notify, { ...target, method: 'PUT' }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /the target is for callback PUT "notify", but its key/],
    [notify, { ...target, name: 'other' }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', /the target is for callback POST "other", but its key/],
    [notify, { ...target, key: 'made_up' }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', unknownKey],
    [notify, { ...target, key: '__proto__' }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', unknownKey],
    [notify, { ...target, key: 'constructor' }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', unknownKey],
    // the same method, another callback: a target is bound to the definition it was resolved for
    [unnamed, target, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', another('callback POST {$request.body#/url} ("notify")')],
    [notify, onA.unnamed.target, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', another('callback POST {$request.body#/url}')],
    [invoicePaid, { kind: 'webhook', key: 'webhook_ping_post', name: 'ping', method: 'POST', url: receiver.origin }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', another('webhook POST "ping"')],
    [ping, { kind: 'webhook', key: 'post_a_notify_post', name: 'ping', method: 'POST', url: receiver.origin }, 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', another('callback POST {$request.body#/url} ("notify")')],
    [ping, 'http://[::1]:9/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', /\[::1\] resolves to ::1, which is loopback/],
    [ping, 'http://127.0.0.2:9/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', /loopback/],
    [ping, 'http://0x7f000002:9/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', /loopback/],
    [ping, 'http://0.0.0.0:9/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', /unspecified/],
    [ping, 'http://[::]:9/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', /unspecified/],
    [ping, 'not a url', 'FST_OPENAPI_CALLBACKS_INVALID_URL', /not an absolute URL/],
    [ping, 'file:///etc/passwd', 'FST_OPENAPI_CALLBACKS_INVALID_URL', /the scheme file: is not allowed/]
  ]
  for (const [definition, given, code, message] of refused) {
    await t.rejects(app.callbacks.send(definition as typeof ping, given as string, undefined), { code, message }, String(JSON.stringify(given)))
  }
  t.equal(receiver.received.length, 3, 'only the good targets were sent to')
  const other = await sender()
  t.teardown(() => other.app.close())
  const elsewhere = other.app.webhooks.post('elsewhere')
  await t.rejects(app.callbacks.send(elsewhere, receiver.origin, undefined), { code: 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', message: /webhook POST "elsewhere": this webhook was not declared with fastify.webhooks/ }, 'another app\'s webhook')
})

test('onAttempt sees every attempt; a hook that throws or rejects is logged, and delivery goes on', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const events: unknown[] = []
  let mode = 'record'
  const { app, lines, ping } = await sender({
    onAttempt: (event) => {
      if (mode === 'throw') throw new Error('hook bug')
      if (mode === 'reject') return Promise.reject(new Error('async hook bug'))
      events.push(event)
    }
  })
  t.teardown(() => app.close())
  await app.ready()
  const result = await app.callbacks.send(ping, receiver.origin, { a: 1 })
  t.match(events, [{
    messageId: result.messageId,
    attempt: 1,
    definition: ping,
    target: { kind: 'webhook', name: 'ping', method: 'POST', url: `${receiver.origin}/` },
    result: { outcome: 'delivered', statusCode: 200 }
  }])
  mode = 'throw'
  t.match(await app.callbacks.send(ping, receiver.origin, { a: 2 }), { outcome: 'delivered' })
  mode = 'reject'
  t.match(await app.callbacks.send(ping, receiver.origin, { a: 3 }), { outcome: 'delivered' })
  await new Promise(resolve => setImmediate(resolve))
  t.same(lines.filter(line => line.level === 50).map(line => [line.msg, line.err.message]), [
    ['the onAttempt hook failed', 'hook bug'],
    ['the onAttempt hook failed', 'async hook bug']
  ])
})

test('onAttempt runs in the async context of the send() that made the attempt, not in that of the connection it went out on', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const context = new AsyncLocalStorage<string>()
  const seen: Array<string | undefined> = []
  // one connection: the second send goes out on the one the first opened
  const { app, ping } = await sender({ concurrency: 1, onAttempt: () => { seen.push(context.getStore()) } })
  t.teardown(() => app.close())
  await app.ready()
  for (const name of ['first', 'second']) await context.run(name, () => app.callbacks.send(ping, receiver.origin, undefined))
  t.same(seen, ['first', 'second'])
})

test('fastify.close() closes the Agent: the receiver sees its kept-alive connection closed', async (t) => {
  const { origin, sockets, close } = await keptAliveReceiver()
  t.teardown(close)
  const { app, ping } = await sender()
  await app.ready()
  t.match(await app.callbacks.send(ping, `${origin}/`, undefined), { outcome: 'delivered' })
  t.equal(sockets.length, 1)
  const [socket] = sockets
  t.notOk(socket!.closed, 'kept alive after the answer')
  const closed = once(socket!, 'close').then(() => 'closed')
  await app.close()
  t.equal(await Promise.race([closed, new Promise(resolve => { setTimeout(resolve, 5000, 'still open 5 s after close') })]), 'closed')
})

test('at most `concurrency` connections to a receiver: a send() beyond them waits for one, and goes out on it', async (t) => {
  const sockets: Socket[] = []
  const held: http.ServerResponse[] = []
  // holds the first answers until two requests are in: meanwhile, a third could only come in on a connection of its own
  const receiver = http.createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      held.push(response)
      if (held.length === 2) for (const waiting of held) waiting.writeHead(204).end()
      if (held.length === 3) response.writeHead(204).end()
    })
  })
  receiver.on('connection', socket => sockets.push(socket))
  await new Promise<void>(resolve => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    receiver.closeAllConnections()
    return new Promise(resolve => receiver.close(resolve))
  })
  const { app, ping } = await sender({ concurrency: 2 })
  t.teardown(() => app.close())
  await app.ready()
  const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  const sends = Array.from({ length: 3 }, () => app.callbacks.send(ping, origin, undefined))
  t.match(await Promise.all(sends), [{ outcome: 'delivered' }, { outcome: 'delivered' }, { outcome: 'delivered' }])
  t.equal(sockets.length, 2, 'the third went out on one of the two connections')
})

test('each URL reaches its own path and query, across more receivers than the sender keeps parsed', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, ping } = await sender()
  t.teardown(() => app.close())
  await app.ready()
  const paths = Array.from({ length: 1100 }, (_, index) => `/hooks/${index}?n=${index}`)
  const sent = [...paths, paths[0]!, paths[1099]!]
  const outcomes = new Set<string>()
  for (const path of sent) outcomes.add((await app.callbacks.send(ping, receiver.origin + path, undefined)).outcome)
  t.same([...outcomes], ['delivered'])
  t.same(receiver.received.map(request => request.url), sent, 'the first and the last again, after the sender renewed what it keeps')
})
