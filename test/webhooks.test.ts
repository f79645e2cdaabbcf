import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import { parse } from 'yaml'
import openapiCallbacks, { callbackRouter } from '../lib/index.js'
import { buildApp } from '../example/app.js'
import { appWith, unsignedHeaders, validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

const newSubscription = {
  summary: 'New Subscription',
  description: 'When a new user subscribes to your service we\'ll send you a POST request with this\ndata to the URL that you register for the event `new-subscription` in the dashboard.',
  operationId: 'webhook_new_subscription_post',
  security: [],
  parameters: unsignedHeaders,
  requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Subscription' } } } },
  responses: { '2XX': { description: 'Successful Response' } }
}

test('the example documents FastAPI\'s new-subscription webhook in 3.1', async (t) => {
  const app = await buildApp({ openapi: '3.1.0' })
  t.teardown(() => app.close())
  await app.ready()
  const document = app.swagger() as Json
  t.same(document.webhooks, { 'new-subscription': { post: newSubscription } })
  t.same(document.components.schemas.Subscription, {
    type: 'object',
    required: ['username', 'monthly_fee', 'start_date'],
    properties: { username: { type: 'string' }, monthly_fee: { type: 'number' }, start_date: { type: 'string', format: 'date-time' } }
  })
  t.same(Object.keys(document.components.schemas).sort(), ['Invoice', 'InvoiceEvent', 'InvoiceEventReceived', 'Subscription'], 'the carrier is gone')
  t.same(await validationErrors(document), [])
  t.same(parse(app.swagger({ yaml: true }) as string), document)
  t.same((await app.inject('/docs/json')).json(), document)
  t.same(parse((await app.inject('/docs/yaml')).body), document)
  t.notOk('fastify-openapi-callbacks-carrier' in app.getSchemas(), 'the app\'s shared schemas are left as they were')
})

test('every method, route(), and the declared list', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  const Body = Type.Object({ id: Type.String() }, { examples: [{ id: 'a' }] })
  const created = app.webhooks.route({ method: 'post', name: 'order', schema: { body: Body } })
  app.webhooks.get('order', { summary: 'Order probe', tags: ['orders'] })
  app.webhooks.put('order', { operationId: 'replaceOrder', deprecated: true })
  app.webhooks.patch('order', { schema: { headers: Type.Object({ 'x-tenant': Type.String() }) } })
  app.webhooks.delete('order', { schema: { response: { 204: Type.Null() } } })
  t.same(app.webhooks.routes.map(({ method }) => method), ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'])
  t.equal(created.kind, 'webhook')
  t.equal(created.name, 'order')
  await app.ready()
  const document = app.swagger() as Json
  const order = document.webhooks.order
  t.same(Object.keys(order), ['post', 'get', 'put', 'patch', 'delete'])
  t.same(order.post.requestBody.content['application/json'].example, { id: 'a' })
  t.same(order.get.tags, ['orders'])
  t.equal(order.get.summary, 'Order probe')
  t.equal(order.put.operationId, 'replaceOrder')
  t.equal(order.put.deprecated, true)
  t.same(order.patch.parameters, [{ name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } }, ...unsignedHeaders], 'the declared header first')
  t.same(order.delete.responses, { 204: { description: 'Successful Response' } })
  t.same(await validationErrors(document), [])
})

test('webhooks given to @fastify/swagger\'s own option are kept and merged', async (t) => {
  const app = await appWith({
    swaggerOptions: {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'T', version: '1.0.0' },
        webhooks: { legacy: { post: { responses: { 200: { description: 'OK' } } } } } as any
      }
    }
  })
  app.webhooks.post('modern')
  await app.ready()
  const document = app.swagger() as Json
  t.same(Object.keys(document.webhooks), ['legacy', 'modern'])
  t.same(document.webhooks.legacy, { post: { responses: { 200: { description: 'OK' } } } })
  t.same(await validationErrors(document), [])
})

test('a webhook also given to @fastify/swagger\'s option is a startup error', async (t) => {
  const app = await appWith({
    swaggerOptions: {
      openapi: { openapi: '3.1.0', info: { title: 'T', version: '1.0.0' }, webhooks: { legacy: { post: {} } } as any }
    }
  })
  app.webhooks.post('legacy')
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_DUPLICATE',
    message: 'webhook POST "legacy": is also given in @fastify/swagger\'s `openapi.webhooks` option; declare it once'
  })
})

function warningsOf (lines: string[]): string[] {
  return lines.map(line => JSON.parse(line)).filter(entry => entry.level === 40).map(entry => entry.msg)
}
const webhooksWarning = 'OpenAPI 3.0 and Swagger 2.0 cannot express webhooks, so they are left out of this document. Set @fastify/swagger\'s `openapi.openapi` to \'3.1.0\' to document them.'

test('OpenAPI 3.0 has no webhooks: none are emitted, one warning, the document stays valid', async (t) => {
  const lines: string[] = []
  const app = await buildApp({ openapi: '3.0.3', logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  await app.ready()
  const document = app.swagger() as Json
  app.swagger({ yaml: true })
  t.notOk('webhooks' in document)
  t.notOk(Object.values(document.components.schemas).some((schema: any) => 'x-fastify-openapi-callbacks' in schema), 'the carrier is gone')
  t.same(warningsOf(lines), [webhooksWarning])
  t.same(await validationErrors(document), [])
  await app.close()
})

test('OpenAPI 3.0 drops the webhooks @fastify/swagger would copy into it', async (t) => {
  const lines: string[] = []
  const app = await appWith({
    serverOptions: { logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } },
    swaggerOptions: { openapi: { info: { title: 'T', version: '1.0.0' }, webhooks: { legacy: { post: {} } } as any } }
  })
  await app.ready()
  const document = app.swagger() as Json
  t.notOk('webhooks' in document)
  t.same(warningsOf(lines), [webhooksWarning])
  t.same(await validationErrors(document), [])
})

test('Swagger 2.0: no webhooks and no carrier in its definitions', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  await app.register(swagger, { swagger: { info: { title: 'Old', version: '1.0.0' } } })
  await app.register(openapiCallbacks)
  app.webhooks.post('event', { schema: { body: Type.Object({ id: Type.String() }) } })
  await app.ready()
  const document = app.swagger() as Json
  t.same(document.definitions, {})
  t.same(warningsOf(lines), [webhooksWarning])
  t.same(await validationErrors(document), [])
})

test('bad webhook definitions fail at startup with a clear error', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  const cases: Array<[() => unknown, string, string]> = [
    [() => app.webhooks.post(''), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook POST "": a webhook needs a non-empty name, its key under `webhooks`'],
    [() => app.webhooks.route({ method: 'post' } as any), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook post undefined: a webhook needs a non-empty name, its key under `webhooks`'],
    [() => app.webhooks.route({ method: 'SEND' as any, name: 'x' }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook SEND "x": method "SEND" is not one of GET, PUT, POST, PATCH, DELETE, HEAD, OPTIONS, TRACE, QUERY'],
    [() => app.webhooks.post('x', 3 as any), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook POST "x": options must be an object'],
    [() => app.webhooks.post('x', { schema: { body: 'Subscription' } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook POST "x": schema.body must be a JSON Schema object'],
    [() => app.webhooks.post('x', { url: '/x' } as any), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook POST "x": unknown option "url"'],
    [() => app.webhooks.post('x', { schema: { headers: Type.Ref('Shared') } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'webhook POST "x": parameter schemas of a webhook must be object schemas, not $refs'],
    [() => { app.webhooks.post('twice'); app.webhooks.post('twice') }, 'FST_OPENAPI_CALLBACKS_DUPLICATE', 'webhook POST "twice": this name and method are declared twice'],
    [() => app.webhooks.post('other', { operationId: 'webhook_twice_post' }), 'FST_OPENAPI_CALLBACKS_DUPLICATE', 'webhook POST "other": operationId "webhook_twice_post" is already used by webhook POST "twice"; operationIds must be unique in the document']
  ]
  for (const [declare, code, message] of cases) t.throws(declare, { code, message }, message)
  await app.ready()
  t.throws(() => app.webhooks.post('late'), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: 'webhook POST "late": webhooks must be declared before the server is ready, while the document can still include them'
  })
})

test('webhooks and callbacks share one operationId space', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  app.webhooks.post('event', { operationId: 'shared' })
  const router = callbackRouter()
  router.post('{$url}', { name: 'done', operationId: 'shared' })
  app.post('/jobs', { schema: { callbacks: router.routes } }, async () => ({}))
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_DUPLICATE',
    message: 'route POST /jobs, callback "done": operationId "shared" is already used by webhook POST "event"; operationIds must be unique in the document'
  })
})
