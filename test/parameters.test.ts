import { test } from 'tap'
import { inspect } from 'node:util'
import { Type } from '@sinclair/typebox'
import { Webhook } from 'standardwebhooks'
import { callbackRouter } from '../lib/index.js'
import type { AttemptEvent, DeliveryOptions, OutcomeEvent, PendingMessage } from '../lib/index.js'
import { loopbackApp } from './helpers.js'
import { startReceiver } from './receivers.js'

// What send(), enqueue() and fanOut() put on the wire besides the body: parameters, headers, each subscriber's secret

const secret = (byte: number): string => `whsec_${Buffer.alloc(32, byte).toString('base64')}`
const GLOBAL = secret(1)
const ACME = secret(2)
const ACME_NEXT = secret(3)

const Event = Type.Object({ id: Type.String() })
const Headers = Type.Object({ 'x-request-id': Type.String({ minLength: 1 }), 'x-tenant': Type.Optional(Type.String()) })
const Query = Type.Object({ attempt: Type.Integer({ minimum: 1 }), tag: Type.Optional(Type.Array(Type.String())) })

async function sender (delivery: DeliveryOptions = {}) {
  const made = await loopbackApp({ secret: GLOBAL, ...delivery })
  const { app } = made
  const event = app.webhooks.post('event', { schema: { body: Event, headers: Headers, querystring: Query } })
  const plain = app.webhooks.post('plain', { schema: { body: Event } })
  const cloud = app.webhooks.post('cloud', { schema: { body: Event, consumes: ['application/cloudevents+json', 'application/json'] } })
  return { ...made, event, plain, cloud }
}

test('declared header and query parameters go out as headers and in the URL, after the query the target has', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, event } = await sender({ headers: { 'x-api-version': 2 }, userAgent: 'acme-billing/7' })
  t.teardown(() => app.close())
  await app.ready()
  const result = await app.callbacks.send(event, `${receiver.origin}/hooks?sig=abc`, { id: 'e-1' }, {
    headers: { 'X-Request-Id': 'req-9', 'x-trace': 't-1' },
    query: { attempt: 3, tag: ['a b', 'c'] }
  } as never) // header names are case-insensitive on the wire; the types ask for the declared case
  t.match(result, { outcome: 'delivered' })
  const [request] = receiver.received
  t.equal(request!.url, '/hooks?sig=abc&attempt=3&tag=a+b&tag=c')
  t.match(request!.headers, { 'x-request-id': 'req-9', 'x-trace': 't-1', 'x-api-version': '2', 'user-agent': 'acme-billing/7', 'content-type': 'application/json' })
  t.doesNotThrow(() => new Webhook(GLOBAL).verify(request!.body, request!.headers as Record<string, string>), 'the signature covers id, timestamp and body')
  await app.callbacks.send(event, `${receiver.origin}/plain`, { id: 'e-2' }, { headers: { 'x-request-id': 'r' }, query: { attempt: 1 } })
  t.equal(receiver.received[1]!.url, '/plain?attempt=1', 'a target without a query gets one')
})

test('a message may set the user-agent; a declared +json media type is the content type', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, cloud } = await sender()
  t.teardown(() => app.close())
  await app.ready()
  await app.callbacks.send(cloud, receiver.origin, { id: 'c-1' }, { headers: { 'user-agent': 'custom/1' } })
  t.match(receiver.received[0]!.headers, { 'content-type': 'application/cloudevents+json', 'user-agent': 'custom/1' })
})

test('bad parameters are refused with a code, and nothing is sent or queued', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, event, plain } = await sender()
  t.teardown(() => app.close())
  await app.ready()
  const good = { headers: { 'x-request-id': 'r' }, query: { attempt: 1 } }
  const invalid = 'FST_OPENAPI_CALLBACKS_INVALID_PARAMETERS'
  const reserved = 'FST_OPENAPI_CALLBACKS_RESERVED_HEADER'
  const cases: Array<[unknown, string, RegExp]> = [
    [undefined, invalid, /webhook POST "event" are not right, so nothing was sent: the headers break their schema: \/ must have required property 'x-request-id'/],
    [{ ...good, headers: {} }, invalid, /must have required property 'x-request-id'/],
    [{ ...good, headers: { 'x-request-id': '' } }, invalid, /\/x-request-id must NOT have fewer than 1 characters/],
    [{ ...good, query: { attempt: 0 } }, invalid, /the query break their schema: \/attempt must be >= 1/],
    [{ ...good, query: { attempt: '1' } }, invalid, /\/attempt must be integer/],
    [{ ...good, query: { attempt: 1, tag: [{}] } }, invalid, /the query parameter "tag" must be a string, a finite number, a boolean or an array of them/],
    [{ ...good, query: { attempt: Number.NaN } }, invalid, /the query parameter "attempt" must be/],
    [{ ...good, query: 'attempt=1' }, invalid, /query must be an object/],
    [{ ...good, headers: 'x-request-id: r' }, invalid, /headers must be an object/],
    [{ ...good, headers: { 'x-request-id': 'r', 'x bad': '1' } }, invalid, /the header name "x bad" is not an HTTP token/],
    [{ ...good, headers: { 'x-request-id': 'r\r\nx-injected: 1' } }, invalid, /the header "x-request-id" must be a string, a finite number or a boolean, of visible ASCII characters, with spaces or tabs only between them/],
    [{ ...good, headers: { 'x-request-id': 'Łódź' } }, invalid, /the header "x-request-id" must be a string, a finite number or a boolean, of visible ASCII/],
    [{ ...good, headers: { 'x-request-id': 'r', 'x-list': ['a'] } }, invalid, /the header "x-list" must be/],
    [{ ...good, headers: { 'x-request-id': 'r', 'X-Request-Id': 's' } }, invalid, /the header "x-request-id" is given twice/],
    [{ ...good, secret: ACME }, invalid, /unknown option "secret": expected headers, query, subscriber or idempotencyKey/],
    [{ ...good, subscriber: 42 }, invalid, /subscriber must be a non-empty string/],
    ['x-request-id', invalid, /the options must be an object/]
  ]
  for (const name of ['webhook-id', 'Webhook-Timestamp', 'webhook-signature', 'webhook-anything', 'content-type', 'Content-Length', 'host', 'transfer-encoding', 'connection', 'Proxy-Authorization', 'expect']) {
    cases.push([{ ...good, headers: { 'x-request-id': 'r', [name]: 'forged' } }, reserved, new RegExp(`webhook POST "event": the header "${name}" is set by the plugin`)])
  }
  for (const [options, code, message] of cases) {
    await t.rejects(app.callbacks.send(event, receiver.origin, { id: 'x' }, options as never), { code, message }, `send ${JSON.stringify(options)}`)
    await t.rejects(app.callbacks.enqueue(event, receiver.origin, { id: 'x' }, options as never), { code }, `enqueue ${JSON.stringify(options)}`)
  }
  t.equal(receiver.received.length, 0, 'nothing was sent')
  // names from JSON: a header named like a built-in is carried as it is, and no prototype changes
  const hostile = JSON.parse('{"__proto__": "p", "constructor": "c", "toString": "s"}')
  t.match(await app.callbacks.send(plain, receiver.origin, { id: 'x' }, { headers: hostile }), { outcome: 'delivered' })
  const raw = receiver.received[0]!.rawHeaders
  const sent = Object.fromEntries(raw.flatMap((name, index) => index % 2 === 0 ? [[name.toLowerCase(), raw[index + 1]]] : []))
  t.same(['__proto__', 'constructor', 'tostring'].map(name => Object.getOwnPropertyDescriptor(sent, name)?.value), ['p', 'c', 's'], 'sent as headers')
  t.same(Object.getOwnPropertyNames(Object.prototype).filter(name => ['p', 'c', 's', 'x-request-id'].includes(name)), [])
  t.equal(typeof ({}).toString, 'function')
})

test('each subscriber is signed with its own secret, asked at each attempt; rotation signs with both; undefined falls back', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const asked: unknown[] = []
  const secrets: Record<string, string | string[] | undefined> = { acme: ACME, rotating: [ACME, ACME_NEXT], legacy: undefined }
  const { app, plain } = await sender({ secretFor: ({ subscriber, target }) => { asked.push([subscriber, target.key]); return secrets[subscriber!] } })
  t.teardown(() => app.close())
  await app.ready()
  for (const subscriber of ['acme', 'rotating', 'legacy']) {
    t.match(await app.callbacks.send(plain, receiver.origin, { id: subscriber }, { subscriber }), { outcome: 'delivered' })
  }
  await app.callbacks.send(plain, receiver.origin, { id: 'none' })
  const [acme, rotating, legacy, none] = receiver.received.map(({ body, headers }) => ({ body, headers: headers as Record<string, string> }))
  t.doesNotThrow(() => new Webhook(ACME).verify(acme!.body, acme!.headers))
  t.throws(() => new Webhook(GLOBAL).verify(acme!.body, acme!.headers), 'not with the plugin\'s secret')
  t.equal(rotating!.headers['webhook-signature']!.split(' ').length, 2)
  t.doesNotThrow(() => new Webhook(ACME_NEXT).verify(rotating!.body, rotating!.headers))
  t.doesNotThrow(() => new Webhook(GLOBAL).verify(legacy!.body, legacy!.headers), 'undefined: the plugin\'s secret')
  t.doesNotThrow(() => new Webhook(GLOBAL).verify(none!.body, none!.headers))
  t.same(asked, [['acme', 'webhook_plain_post'], ['rotating', 'webhook_plain_post'], ['legacy', 'webhook_plain_post'], [undefined, 'webhook_plain_post']])
})

test('a resolver that fails, hangs or answers nonsense makes the attempt retryable, sends nothing, and never throws', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const behaviours: Record<string, () => unknown> = {
    throws: () => { throw new Error('vault down') },
    rejects: () => Promise.reject(new Error('vault timeout')),
    rejectsWithNothing: () => Promise.reject(undefined), // eslint-disable-line prefer-promise-reject-errors
    hangs: () => new Promise(() => {}),
    empty: () => [],
    number: () => 42,
    malformed: () => 'hunter2'
  }
  const { app, plain } = await sender({ headersTimeout: 100, secretFor: ({ subscriber }) => behaviours[subscriber!]!() as never })
  t.teardown(() => app.close())
  await app.ready()
  for (const [subscriber, code] of [
    ['throws', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['rejects', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['rejectsWithNothing', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['hangs', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['empty', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['number', 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['malformed', 'FST_OPENAPI_CALLBACKS_INVALID_SECRET']
  ] as const) {
    const result = await app.callbacks.send(plain, receiver.origin, { id: subscriber }, { subscriber })
    t.match(result, { outcome: 'retryable', statusCode: undefined, error: { code } }, subscriber)
  }
  t.match(await app.callbacks.send(plain, receiver.origin, { id: 'x' }, { subscriber: 'hangs' }), { error: { message: /subscriber "hangs" could not be had: secretFor did not answer within 100 ms/ } })
  t.match(await app.callbacks.send(plain, receiver.origin, { id: 'x' }), { outcome: 'retryable', error: { message: /The secret for the target webhook_plain_post could not be had: secretFor failed \(TypeError/ } }, 'no subscriber given: named by its target')
  t.equal(receiver.received.length, 0)
})

test('a resolver\'s own error text reaches neither the result, the hooks nor the log: its name and code do', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  // what a resolver's message may quote: a vault token
  const TOKEN = 'hvs.CAESIJ3xq9'
  class VaultError extends Error {
    override name = 'VaultError'
    code = 'EVAULTSEALED'
  }
  const behaviours: Record<string, () => unknown> = {
    throws: () => { throw new VaultError(`token ${TOKEN} rejected`) },
    rejects: () => Promise.reject(new VaultError(`token ${TOKEN} rejected`)),
    posesAsThePlugin: () => { throw Object.assign(new Error(`token ${TOKEN} rejected`), { code: 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE' }) },
    throwsText: () => { throw TOKEN },
    rejectsWithNull: () => Promise.reject(null) // eslint-disable-line prefer-promise-reject-errors
  }
  const attempts: AttemptEvent[] = []
  const { app, plain, lines } = await sender({ secretFor: ({ subscriber }) => behaviours[subscriber!]!() as never, onAttempt: event => { attempts.push(event) } })
  t.teardown(() => app.close())
  await app.ready()
  for (const [subscriber, fault] of [
    ['throws', 'VaultError, code EVAULTSEALED'],
    ['rejects', 'VaultError, code EVAULTSEALED'],
    ['posesAsThePlugin', 'Error, code FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE'],
    ['throwsText', 'a thrown string'],
    ['rejectsWithNull', 'a thrown null']
  ] as const) {
    const result = await app.callbacks.send(plain, receiver.origin, { id: subscriber }, { subscriber })
    t.match(result, { outcome: 'retryable', error: { code: 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE', message: `The secret for subscriber "${subscriber}" could not be had: secretFor failed (${fault}; its text is left out); the attempt is retried` } }, subscriber)
    t.equal((result as { error: Error }).error.cause, undefined, 'the resolver\'s error is not kept as the cause')
  }
  t.equal(attempts.length, 5)
  t.notOk(inspect(attempts, { depth: 20 }).includes(TOKEN), 'not in what onAttempt gets')
  t.ok(lines.some(line => line.level === 40 && /secretFor failed/.test(line.err?.message)), 'each attempt is logged')
  t.notOk(JSON.stringify(lines).includes(TOKEN), 'not in the log')
  t.equal(receiver.received.length, 0)
})

test('a queued message keeps the subscriber\'s id, never its secret, nor the app\'s own headers', async (t) => {
  let pending: PendingMessage[] = []
  const { app, plain } = await sender({ schedule: [3_600_000], secretFor: () => ACME, headers: { 'x-api-key': 'key_live_9' }, userAgent: 'acme/3', onPending: (messages) => { pending = messages } })
  await app.ready()
  await app.callbacks.enqueue(plain, 'http://127.0.0.1:9/hooks', { id: 'q' }, { subscriber: 'acme', headers: { 'x-tenant': 't1' } })
  await app.close()
  t.match(pending[0]!.message, { subscriber: 'acme' })
  t.same(pending[0]!.message.headers, { 'x-tenant': 't1', 'content-type': 'application/json' }, 'its own headers alone')
  const stored = JSON.stringify(pending)
  t.notOk(stored.includes(ACME.slice(6)) || stored.includes(ACME), 'no secret in the message')
})

test('fanOut(): one event, a message per subscriber with its own id, secret and outcome; a bad subscriber fails alone', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, plain, until } = await (async () => {
    const made = await sender({ secretFor: ({ subscriber }) => subscriber === 'acme' ? ACME : undefined })
    const seen: OutcomeEvent[] = made.outcomes
    return { ...made, until: async (count: number) => { while (seen.length < count) await made.outcome() } }
  })()
  t.teardown(() => app.close())
  await app.ready()
  const results = await app.callbacks.fanOut(plain, [
    `${receiver.origin}/one`,
    { target: `${receiver.origin}/acme`, subscriber: 'acme', headers: { 'x-tenant': 'acme' } },
    'http://10.0.0.1/internal',
    { target: `${receiver.origin}/bad`, headers: { host: 'evil' } },
    { target: 'not a url' }
  ], { id: 'evt-1' })
  t.match(results, [
    { ok: true, id: /^msg_/ },
    { ok: true, id: /^msg_/ },
    { ok: false, error: { code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS' } },
    { ok: false, error: { code: 'FST_OPENAPI_CALLBACKS_RESERVED_HEADER' } },
    { ok: false, error: { code: 'FST_OPENAPI_CALLBACKS_INVALID_URL' } }
  ])
  await until(2)
  const byPath = Object.fromEntries(receiver.received.map(request => [request.url, request]))
  t.equal(receiver.received.length, 2)
  t.not(byPath['/one']!.headers['webhook-id'], byPath['/acme']!.headers['webhook-id'], 'one message id each')
  t.doesNotThrow(() => new Webhook(GLOBAL).verify(byPath['/one']!.body, byPath['/one']!.headers as Record<string, string>))
  t.doesNotThrow(() => new Webhook(ACME).verify(byPath['/acme']!.body, byPath['/acme']!.headers as Record<string, string>))
  t.equal(byPath['/acme']!.headers['x-tenant'], 'acme')
  await t.rejects(app.callbacks.fanOut(plain, [receiver.origin], { id: 1 } as never), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD' }, 'the payload is checked once, for all')
  await t.rejects(app.callbacks.fanOut(plain, receiver.origin as never, { id: 'x' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_TARGET', message: /takes an array of subscribers/ })
})

test('a callback\'s parameters are typed and checked like a webhook\'s', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const router = callbackRouter()
  const done = router.post('{$request.body#/url}', { name: 'done', schema: { body: Event, headers: Headers } })
  const { app } = await sender()
  t.teardown(() => app.close())
  app.post('/jobs', { schema: { body: Type.Object({ url: Type.String() }), callbacks: router.routes } }, async (request) => {
    const resolved = app.callbacks.target(done, request)
    if (!resolved.ok) throw new Error('no url')
    return await app.callbacks.send(done, resolved.target, { id: 'j' }, { headers: { 'x-request-id': request.id } })
  })
  const response = await app.inject({ method: 'POST', url: '/jobs', payload: { url: receiver.origin } })
  t.match(response.json(), { outcome: 'delivered' })
  t.equal(receiver.received[0]!.headers['x-request-id'], 'req-1')
})
