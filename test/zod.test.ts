import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { Webhook } from 'standardwebhooks'
import { z } from 'zod'
import openapiCallbacks, { callbackRouter } from '../lib/index.js'
import type { DeliveryOptions } from '../lib/index.js'
import { validationErrors } from './helpers.js'
import type { Json } from './helpers.js'
import { startReceiver } from './receivers.js'

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`

// shared schemas, as fastify-type-provider-zod's users register them
const Money = z.object({ amount: z.number(), currency: z.string().length(3) }).meta({ id: 'ZodTestMoney' })
const Line = z.object({
  sku: z.string(),
  quantity: z.number().int().default(1),
  shipped: z.date().optional(),
  note: z.string().nullable()
})
const Order = z.object({ id: z.string(), price: Money, lines: z.array(Line) })

/** An app set up as fastify-type-provider-zod's README says, with the plugin after @fastify/swagger. */
async function zodApp (openapi = '3.1.0', delivery: DeliveryOptions = {}) {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(swagger, { openapi: { openapi, info: { title: 'Zod', version: '1.0.0' } }, transform: jsonSchemaTransform, transformObject: jsonSchemaTransformObject })
  await app.register(openapiCallbacks, { delivery: { allowHttp: true, allow: ['127.0.0.1'], secret: SECRET, ...delivery } })
  return app
}

/** An operation's parameters without the signature headers the plugin documents by itself after them. */
function declaredParameters (parameters: unknown): Json[] {
  return (parameters as Json[]).filter(({ name }) => !String(name).startsWith('webhook-'))
}

function failure (fn: () => unknown): { code: string, message: string } {
  try {
    fn()
  } catch (error) {
    return error as { code: string, message: string }
  }
  return { code: 'none', message: 'nothing was thrown' }
}

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`a callback's zod schemas are documented as fastify-type-provider-zod documents a route's, in OpenAPI ${openapi}`, async (t) => {
    const app = await zodApp(openapi)
    t.teardown(() => app.close())
    const Query = z.object({ tenant: z.string().min(2).describe('Who it is for'), page: z.number().int().optional() })
    const Headers = z.object({ 'x-attempt': z.number().int() })
    const router = callbackRouter()
    router.post('{$request.body#/id}', {
      name: 'order_changed',
      // the app sends the body and parameters: their output side; it reads the answer: its input side
      schema: { body: Order, querystring: Query, headers: Headers, response: { 200: Order, default: { content: { 'application/problem+json': { schema: Money } } } } }
    })
    // the same schemas on routes, where fastify-type-provider-zod writes them: requests as input, responses as output
    app.post('/orders', { schema: { body: Order, response: { 200: Order }, callbacks: router.routes } }, async () => ({}))
    app.get('/orders', { schema: { querystring: Query, headers: Headers, response: { 200: Money } } }, async () => ({}))
    await app.ready()

    const document = app.swagger() as Json
    t.same(await validationErrors(document), [], 'valid against the official schema, no dangling $ref')
    const route = document.paths['/orders']
    const callback = route.post.callbacks.order_changed['{$request.body#/id}'].post
    t.same(callback.requestBody.content['application/json'].schema, route.post.responses['200'].content['application/json'].schema, 'the body: Order\'s output side')
    t.same(callback.responses['200'].content['application/json'].schema, route.post.requestBody.content['application/json'].schema, 'the answer: Order\'s input side')
    t.same(callback.responses.default.content['application/problem+json'].schema, { $ref: '#/components/schemas/ZodTestMoneyInput' }, 'a content map\'s schema, by its registry id')
    const routeParameters = route.get.parameters as Json[]
    t.same(declaredParameters(callback.parameters), routeParameters.map(({ schema, ...parameter }) => ({ ...parameter, schema })), 'the same parameters')
    t.match(callback.parameters, [{ name: 'tenant', in: 'query', required: true, description: 'Who it is for' }, { name: 'page', required: false }, { name: 'x-attempt', in: 'header', required: true }])
    t.match(document.components.schemas.ZodTestMoney, { properties: { amount: { type: 'number' } } }, 'the registry\'s schemas are components')
  })
}

interface TreeNode { name: string, children: TreeNode[] }
const Node: z.ZodType<TreeNode> = z.object({ name: z.string(), get children () { return z.array(Node) } }).meta({ id: 'ZodTestNode' })

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`recursive and registered zod schemas: components, their parameters split, in OpenAPI ${openapi}`, async (t) => {
    const app = await zodApp(openapi)
    t.teardown(() => app.close())
    const router = callbackRouter()
    router.put('{$request.body#/children/0/children/0/name}', {
      name: 'tree',
      schema: { body: Node, headers: z.object({ 'x-tree': z.string().describe('Which tree') }).meta({ id: 'ZodTestTreeHeaders' }) }
    })
    app.post('/trees', { schema: { body: Node, callbacks: router.routes } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    t.same(await validationErrors(document), [], 'valid against the official schema, no dangling $ref')
    const tree = document.paths['/trees'].post.callbacks.tree['{$request.body#/children/0/children/0/name}'].put
    t.same(tree.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/ZodTestNode' })
    t.same(declaredParameters(tree.parameters), [{ name: 'x-tree', in: 'header', required: true, description: 'Which tree', schema: { type: 'string' } }])
  })
}

test('runtime expressions are checked against a route\'s zod schemas, shared ones included', async (t) => {
  const app = await zodApp()
  t.teardown(() => app.close())
  const router = callbackRouter()
  const everyPart = router.post('{$callback_url}/{$request.path.id}/{$request.header.X-Tenant}/{$request.body#/price/currency}/{$request.body#/lines/0/sku}/{$response.body#/receipt}', { name: 'every_part' })
  app.post('/orders/:id', {
    schema: {
      querystring: z.object({ callback_url: z.url() }),
      params: z.object({ id: z.string() }),
      headers: z.object({ 'x-tenant': z.string() }),
      body: Order,
      response: { 200: z.object({ receipt: z.string() }) },
      callbacks: router.routes
    }
  }, async (request) => {
    resolved.push(app.callbacks.target(everyPart, request, { statusCode: 200, body: { receipt: 'r-1' } }))
    return { receipt: 'r-1' }
  })
  const resolved: unknown[] = []
  const order = { id: 'o-1', price: { amount: 3, currency: 'EUR' }, lines: [{ sku: 'sku-9', note: null }] }
  const response = await app.inject({ method: 'POST', url: '/orders/o-1?callback_url=http://127.0.0.1:9/hooks', headers: { 'x-tenant': 'acme' }, payload: order })
  t.equal(response.statusCode, 200)
  t.match(resolved, [{ ok: true, target: { url: 'http://127.0.0.1:9/hooks/o-1/acme/EUR/sku-9/r-1' } }], 'every expression resolved from the request and the reply')

  for (const [key, fault] of [
    ['{$request.body#/price/cents}', '"#/price/cents" in the request body, which the route\'s body schema does not declare'],
    ['{$request.query.target}', 'query parameter "target", which the route\'s querystring schema does not declare'],
    ['{$request.path.order}', 'path parameter "order", which the route\'s params schema does not declare'],
    ['{$response.body#/total}', '"#/total" in the response body, which none of the route\'s response schemas declares']
  ] as const) {
    const wrong = callbackRouter()
    wrong.post(key, { name: 'wrong' })
    const other = await zodApp()
    t.teardown(() => other.close())
    other.post('/orders/:id', {
      schema: { querystring: z.object({ callback_url: z.url() }), params: z.object({ id: z.string() }), body: Order, response: { 200: z.object({ receipt: z.string() }) }, callbacks: wrong.routes }
    }, async () => ({}))
    // a route's callbacks are read at ready(), once every onRoute hook has run
    t.match(await other.ready().then(() => ({ code: 'none' }), (error: unknown) => error), { code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED', message: `route POST /orders/:id, callback "wrong": runtime expression "${key.slice(1, -1)}" at position 1 refers to ${fault}` }, key)
  }
})

test('a zod definition is checked as the JSON Schema it converts to', async (t) => {
  const router = callbackRouter()
  t.match(failure(() => router.post('{$url}', { name: 'bad', schema: { headers: z.string() } })), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: /callback POST \{\$url\} \("bad"\).*schema\.headers must be an object schema whose properties are the parameters/
  })
  t.match(failure(() => router.post('{$url}', { name: 'bad', schema: { querystring: z.object({ a: z.string() }), response: { 200: z.object({ ok: z.boolean() }), 299: z.boolean() } } })), { code: 'none' }, 'good ones pass')
})

test('a zod payload is parsed with its schema and its output sent, signed; the answer parsed with its own', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const app = await zodApp()
  t.teardown(() => app.close())
  const Paid = z.object({
    id: z.string().refine(id => id.startsWith('inv-'), 'invoice ids start with inv-'),
    paid: z.boolean(),
    at: z.date(),
    attempt: z.number().int().default(1),
    note: z.string().transform(note => note.trim())
  })
  const Ack = z.object({ ok: z.boolean(), seen: z.number().default(0) })
  const paid = app.webhooks.post('invoice-paid', { schema: { body: Paid, response: { 200: Ack } } })
  await app.ready()

  const result = await app.callbacks.send(paid, `${receiver.origin}/hooks`, { id: 'inv-1', paid: true, at: new Date(0), note: '  thanks ' })
  t.match(result, { outcome: 'delivered', body: { ok: true, seen: 0 } }, 'the answer is the parsed output: its default filled in')
  const { body, headers } = receiver.received[0]!
  t.same(JSON.parse(body), { id: 'inv-1', paid: true, at: '1970-01-01T00:00:00.000Z', attempt: 1, note: 'thanks' }, 'the output: default, transform, the Date as JSON')
  t.same(new Webhook(SECRET).verify(body, headers as Record<string, string>), JSON.parse(body), 'signed: the standardwebhooks package verifies it')

  const invalid = await app.callbacks.send(paid, `${receiver.origin}/hooks`, { id: 'bill-1', paid: 'yes' as unknown as boolean, at: new Date(0), note: '' }).catch((error: unknown) => error) as Json
  t.equal(invalid.code, 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD')
  t.same(invalid.validation, ['/id: invoice ids start with inv-', '/paid: Invalid input: expected boolean, received string'], 'every failing path, refinements too')
  t.match(invalid.message, /webhook POST "invoice-paid".*\/paid: Invalid input: expected boolean/)
  await t.rejects(app.callbacks.enqueue(paid, `${receiver.origin}/hooks`, { id: 'inv-2' } as never), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD' }, 'enqueue() checks the same way')
  t.equal(receiver.received.length, 1, 'nothing else was sent')

  receiver.answer((_, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":"yes"}') })
  t.match(await app.callbacks.send(paid, `${receiver.origin}/hooks`, { id: 'inv-3', paid: false, at: new Date(0), note: '' }), {
    outcome: 'contract-violation',
    error: { code: 'FST_OPENAPI_CALLBACKS_CONTRACT_VIOLATION', message: /\/ok: Invalid input: expected boolean, received string/ }
  }, 'an answer that breaks its zod schema')
})

test('declared zod header and query parameters are checked with their schemas', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const app = await zodApp()
  t.teardown(() => app.close())
  const ping = app.webhooks.post('ping', {
    schema: { headers: z.object({ 'X-Attempt': z.number().int().min(1) }), querystring: z.object({ tenant: z.string().min(2) }) }
  })
  await app.ready()

  const sent = await app.callbacks.send(ping, `${receiver.origin}/hooks`, undefined, { headers: { 'X-Attempt': 2 }, query: { tenant: 'acme' } })
  t.equal(sent.outcome, 'delivered')
  t.equal(receiver.received[0]!.url, '/hooks?tenant=acme')
  t.equal(receiver.received[0]!.headers['x-attempt'], '2')
  await t.rejects(app.callbacks.send(ping, `${receiver.origin}/hooks`, undefined, { headers: { 'X-Attempt': 0 }, query: { tenant: 'acme' } }), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PARAMETERS', message: /headers break their schema: \/X-Attempt: Too small/
  })
  await t.rejects(app.callbacks.send(ping, `${receiver.origin}/hooks`, undefined, { headers: { 'X-Attempt': 1 }, query: { tenant: 'a' } }), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PARAMETERS', message: /query break their schema: \/tenant: Too small/
  })
  t.equal(receiver.received.length, 1, 'nothing else was sent')
})

test('an asynchronous zod schema cannot check a payload now, a refinement of the whole payload fails at /: coded errors, nothing sent', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const app = await zodApp()
  t.teardown(() => app.close())
  const hook = app.webhooks.post('async', { schema: { body: z.object({ id: z.string() }).refine(async () => true) } })
  const never = app.webhooks.post('never', { schema: { body: z.object({ id: z.string() }).refine(() => false, 'never valid') } })
  await app.ready()
  await t.rejects(app.callbacks.send(hook, `${receiver.origin}/hooks`, { id: 'a' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD', message: /the schema is asynchronous/ })
  await t.rejects(app.callbacks.send(never, `${receiver.origin}/hooks`, { id: 'a' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD', message: /: \/: never valid$/ }, 'a fault of the whole payload is at /')
  t.equal(receiver.received.length, 0)
})

test('hostile property names in zod schemas are carried exactly, as own properties', async (t) => {
  const app = await zodApp()
  t.teardown(() => app.close())
  const router = callbackRouter()
  router.post('{$request.body#/__proto__}', {
    name: 'hostile',
    schema: { body: z.object({ ['__proto__']: z.string(), constructor: z.number() }), querystring: z.object({ ['__proto__']: z.string() }) }
  })
  app.post('/hostile', { schema: { body: z.object({ ['__proto__']: z.string() }), callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const operation = (app.swagger() as Json).paths['/hostile'].post.callbacks.hostile['{$request.body#/__proto__}'].post
  const { properties } = operation.requestBody.content['application/json'].schema
  t.same(Object.keys(properties), ['__proto__', 'constructor'])
  t.ok(Object.hasOwn(properties, '__proto__'))
  t.equal(Object.getPrototypeOf(properties), Object.prototype, 'no prototype was set')
  t.match(operation.parameters, [{ name: '__proto__', in: 'query', required: true, schema: { type: 'string' } }])
})
