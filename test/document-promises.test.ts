// The document promises what is sent: no path parameter nothing fills, the signature headers, security that names a scheme
import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import type { FastifyOpenapiCallbacksOptions } from '../lib/index.js'
import { appWith, unsignedHeaders, validationErrors, webhookIdHeader, webhookTimestampHeader } from './helpers.js'
import type { Json } from './helpers.js'

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
const KEY = '{$request.query.callback_url}'
const callbackUrl = Type.Object({ callback_url: Type.String() })
const INVALID = 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION'

const signatureHeader = (required: boolean, extra = ''): Json => ({
  name: 'webhook-signature',
  in: 'header',
  required,
  description: `Standard Webhooks v1 signatures${extra}: \`v1,\` and the base64 HMAC-SHA256 of \`{webhook-id}.{webhook-timestamp}.{body}\`, keyed by the shared secret; several, separated by spaces, while the secret is rotated: accept any that matches.`,
  schema: { type: 'string', pattern: '^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$' },
  example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='
})
const verifyNote = 'Signed with [Standard Webhooks](https://www.standardwebhooks.com/) v1: recompute the HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` ' +
  'with the shared secret, compare it with each `webhook-signature` entry in constant time, and refuse a `webhook-timestamp` more than 5 minutes from your clock.'

/** The callback and the webhook operation of an app with one of each, both declaring a header. */
async function operations (openapi: string, pluginOptions: FastifyOpenapiCallbacksOptions, options: Json = {}): Promise<{ callback: Json, webhook: Json | undefined, document: Json }> {
  const app = await appWith({ openapi, pluginOptions })
  const router = callbackRouter()
  const schema = { headers: Type.Object({ 'x-tenant': Type.String() }), body: Type.Object({ id: Type.String() }) }
  router.post(KEY, { name: 'done', schema, ...options })
  app.webhooks.post('event', { schema, ...options })
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  await app.close()
  return { callback: document.paths['/jobs'].post.callbacks.done[KEY].post, webhook: document.webhooks?.event.post, document }
}

const tenant = { name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } }

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`with a secret, every callback and webhook documents the signature and how to verify it (${openapi})`, async (t) => {
    const { callback, webhook, document } = await operations(openapi, { delivery: { secret: SECRET } }, { description: 'Sent when done.' })
    for (const operation of openapi === '3.0.3' ? [callback] : [callback, webhook!]) {
      t.same(operation.parameters, [tenant, webhookIdHeader, webhookTimestampHeader, signatureHeader(true)], 'the declared header first')
      t.equal(operation.description, `Sent when done.\n\n${verifyNote}`, 'the note follows the definition\'s own description')
    }
    t.same(await validationErrors(document), [])
  })
}

test('secretFor alone: the signature is documented, not required, as a subscriber without a secret gets none', async (t) => {
  const { callback, webhook, document } = await operations('3.1.0', { delivery: { secretFor: () => undefined } })
  for (const operation of [callback, webhook!]) {
    t.same(operation.parameters, [tenant, webhookIdHeader, webhookTimestampHeader, signatureHeader(false, ', when the subscription has a secret')])
    t.equal(operation.description, verifyNote.replace(' v1:', ' v1 when the subscription has a secret:'), 'the note is the description when there is none')
  }
  t.same(await validationErrors(document), [])
})

test('without a secret, the id and the timestamp are documented, and nothing about a signature', async (t) => {
  const { callback, webhook } = await operations('3.1.0', {})
  for (const operation of [callback, webhook!]) {
    t.same(operation.parameters, [tenant, ...unsignedHeaders])
    t.notOk('description' in operation)
  }
})

test('document: { signature: false } leaves the plugin\'s headers and the note out', async (t) => {
  const { callback, webhook } = await operations('3.1.0', { delivery: { secret: SECRET }, document: { signature: false } }, { description: 'Own.' })
  for (const operation of [callback, webhook!]) {
    t.same(operation.parameters, [tenant])
    t.equal(operation.description, 'Own.')
  }
  const bare = await operations('3.1.0', { document: { signature: false } }, { schema: { querystring: { type: 'object' }, body: Type.Object({}) } })
  t.notOk('parameters' in bare.callback, 'an object schema without properties adds no parameter, and there is no empty list')
  const defaults = await operations('3.1.0', { document: {} })
  t.same(defaults.callback.parameters, [tenant, ...unsignedHeaders], 'document: {} keeps the default')
})

test('the document option is checked once, at registration', async (t) => {
  const cases: Array<[unknown, string]> = [
    [false, 'Invalid fastify-openapi-callbacks option: document must be an object, not false'],
    [{ signature: 'no' }, 'Invalid fastify-openapi-callbacks option: document.signature must be a boolean, not \'no\''],
    [{ sharedCallbacks: 1 }, 'Invalid fastify-openapi-callbacks option: document.sharedCallbacks must be a boolean, not 1'],
    [{ signatures: false }, 'Invalid fastify-openapi-callbacks option: unknown option "document.signatures": document takes signature, sharedCallbacks'],
    [{ ['__proto__']: false }, 'Invalid fastify-openapi-callbacks option: unknown option "document.__proto__": document takes signature, sharedCallbacks']
  ]
  for (const [document, message] of cases) {
    await t.rejects(appWith({ pluginOptions: { document } as never }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_OPTIONS', message })
  }
})

test('schema.params is refused where the definition is made, saying how to put a value in the URL instead', async (t) => {
  const fault = 'schema.params cannot be sent: the URL of a callback or webhook has no path parameter that anything fills. ' +
    'Put the value in a callback\'s URL with a runtime expression in its key ("{$request.body#/id}"), or send it as a query parameter (schema.querystring)'
  t.throws(() => callbackRouter().post(KEY, { name: 'done', schema: { params: Type.Object({ id: Type.String() }) } as never }),
    { code: INVALID, message: `callback POST ${KEY} ("done"): ${fault}` })
  const app = await appWith({ openapi: '3.1.0' })
  t.throws(() => app.webhooks.post('event', { schema: { params: { type: 'object' } } as never }),
    { code: INVALID, message: `webhook POST "event": ${fault}` })
})

test('a definition that declares a header the plugin sets is refused: it could not be sent', async (t) => {
  for (const name of ['webhook-id', 'Webhook-Signature', 'webhook-anything', 'Content-Type', 'host', 'transfer-encoding', 'Proxy-Authorization', 'expect']) {
    t.throws(() => callbackRouter().post(KEY, { name: 'done', schema: { headers: Type.Object({ [name]: Type.String() }) } }), {
      code: INVALID,
      message: `callback POST ${KEY} ("done"): schema.headers declares "${name}", a header the plugin sets itself (the Standard Webhooks signature, the body's framing, the connection) or one meant for a proxy, so it cannot be sent; the document lists the signature headers by itself`
    })
  }
  t.doesNotThrow(() => callbackRouter().post(KEY, { name: 'done', schema: { headers: Type.Object({ 'x-webhook-id': Type.String(), webhook: Type.String() }) } }), 'names that only look alike are the app\'s')

  // a shared schema given by $ref is read at startup, and checked then
  const app = await appWith()
  app.addSchema(Type.Object({ 'Webhook-Timestamp': Type.String() }, { $id: 'Stamped' }))
  const router = callbackRouter()
  router.post(KEY, { name: 'done', schema: { headers: Type.Ref('Stamped') } })
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await t.rejects(async () => { await app.ready() }, {
    code: INVALID,
    message: /^route POST \/jobs, callback "done": schema.headers declares "Webhook-Timestamp", a header the plugin sets itself/
  })
})

test('security is carried to callbacks and webhooks; [] says none', async (t) => {
  const app = await appWith({
    openapi: '3.1.0',
    swaggerOptions: {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'T', version: '1.0.0' },
        components: { securitySchemes: { receiverKey: { type: 'apiKey', in: 'header', name: 'x-api-key' }, ['__proto__']: { type: 'http', scheme: 'bearer' } } }
      }
    }
  })
  const router = callbackRouter()
  const required: Array<Record<string, string[]>> = [{ receiverKey: [] }, { ['__proto__']: ['events:write'] }]
  router.post(KEY, { name: 'keyed', security: required })
  router.post(KEY, { name: 'open', security: [] })
  app.webhooks.post('keyed', { security: required })
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  const callbacks = document.paths['/jobs'].post.callbacks
  for (const operation of [callbacks.keyed[KEY].post, document.webhooks.keyed.post]) {
    t.same(operation.security, [{ receiverKey: [] }, JSON.parse('{"__proto__":["events:write"]}')])
    t.ok(Object.hasOwn(operation.security[1], '__proto__'), 'a scheme named __proto__ is an own property')
    t.equal(Object.getPrototypeOf(operation.security[1]), Object.prototype)
  }
  t.same(callbacks.open[KEY].post.security, [])
  t.same(await validationErrors(document), [])
  await app.close()
})

test('security must be an array of objects of string arrays', async (t) => {
  const requirement = 'security must be an array of Security Requirement Objects, such as [{ apiKey: [] }] (or [] for none)'
  const cases: Array<[unknown, string]> = [
    [{ receiverKey: [] }, requirement],
    [['receiverKey'], `${requirement}: security[0] is not an object`],
    [[{ receiverKey: 'read' }], 'security[0].receiverKey must be an array of scope names (strings), [] for a scheme without scopes'],
    [[{}, { receiverKey: [1] }], 'security[1].receiverKey must be an array of scope names (strings), [] for a scheme without scopes'],
    [[{ __proto__: { receiverKey: [] } }], 'security[0] has a prototype of its own: an object literal\'s "__proto__: value" sets the prototype; write ["__proto__"]: value to name a scheme __proto__']
  ]
  for (const [security, fault] of cases) {
    t.throws(() => callbackRouter().post(KEY, { name: 'done', security: security as never }), { code: INVALID, message: `callback POST ${KEY} ("done"): ${fault}` })
  }
  const app = await appWith({ openapi: '3.1.0' })
  t.throws(() => app.webhooks.post('event', { security: [[]] as never }), { code: INVALID, message: `webhook POST "event": ${requirement}: security[0] is not an object` })
})

test('a security scheme the document does not declare fails when the document is built, naming the route and the callback', async (t) => {
  const router = callbackRouter()
  router.post(KEY, { name: 'done', security: [{ receiverKey: [] }] })
  const app = await appWith({ openapi: '3.1.0' })
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_UNDECLARED_SECURITY_SCHEME',
    message: 'route POST /jobs, callback "done": security names the scheme "receiverKey", which the document does not declare; declare it in @fastify/swagger\'s openapi.components.securitySchemes'
  })

  const declaredElsewhere = await appWith({
    swaggerOptions: { openapi: { openapi: '3.1.0', info: { title: 'T', version: '1.0.0' }, components: { securitySchemes: { other: { type: 'http', scheme: 'basic' } } } } }
  })
  declaredElsewhere.webhooks.post('event', { security: [{ other: [] }, { constructor: [] }] })
  await t.rejects(async () => { await declaredElsewhere.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_UNDECLARED_SECURITY_SCHEME',
    message: /^webhook POST "event": security names the scheme "constructor", which the document does not declare/
  })

  // a raw callbacks map is checked the same
  const raw = await appWith({ openapi: '3.1.0' })
  raw.post('/jobs', {
    schema: { querystring: callbackUrl, callbacks: { done: { [KEY]: { post: { security: [{ receiverKey: [] }], responses: { 200: { description: 'OK' } } } } } } }
  }, async () => ({}))
  await t.rejects(async () => { await raw.ready() }, { code: 'FST_OPENAPI_CALLBACKS_UNDECLARED_SECURITY_SCHEME', message: /^route POST \/jobs, callback "done": security names the scheme "receiverKey"/ })
  // a raw map is kept as written: a requirement that is not an object names no scheme, and is the document validator's to judge
  const odd = await appWith({ openapi: '3.1.0' })
  odd.post('/jobs', { schema: { querystring: callbackUrl, callbacks: { done: { [KEY]: { post: { security: ['receiverKey'] } } } } } }, async () => ({}))
  await odd.ready()
  t.same((odd.swagger() as Json).paths['/jobs'].post.callbacks.done[KEY].post.security, ['receiverKey'])
  await odd.close()
})
