import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Type } from '@sinclair/typebox'
import Type1 from 'typebox'
import { parse } from 'yaml'
import openapiCallbacks, { callbackRouter } from '../lib/index.js'
import { appWith, unsignedHeaders, validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

const Event = Type.Object({ id: Type.String(), paid: Type.Boolean() })
const Ack = Type.Object({ ok: Type.Boolean() })
const callbackUrl = Type.Object({ callback_url: Type.String({ format: 'uri' }) })

function callbacksOf (document: Json, path = '/jobs', method = 'post'): Json {
  return document.paths[path][method].callbacks
}

test('a callback becomes a complete Operation', async (t) => {
  const router = callbackRouter()
  router.route({
    method: 'put',
    url: '{$request.query.callback_url}/jobs/{$request.path.jobId}',
    name: 'job-finished',
    summary: 'Job finished',
    description: 'Sent when the job ends.',
    operationId: 'jobFinished',
    tags: ['jobs'],
    deprecated: true,
    schema: {
      headers: Type.Object({ 'x-tenant': Type.String({ description: 'The tenant' }) }),
      querystring: Type.Object({ attempt: Type.Integer(), note: Type.Optional(Type.String({ examples: ['retry'] })) }),
      body: Type.Object({ state: Type.String() }, { description: 'The job\'s final state' }),
      response: {
        204: Type.Null({ description: 'Taken' }),
        '4xx': Type.Object({ error: Type.String() }),
        default: Type.Object({ error: Type.String() }, { description: 'Anything else' })
      }
    }
  })
  const app = await appWith()
  app.post('/jobs/:jobId', {
    schema: { querystring: callbackUrl, params: Type.Object({ jobId: Type.String() }), callbacks: router.routes }
  }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  t.same(callbacksOf(document, '/jobs/{jobId}'), {
    'job-finished': {
      '{$request.query.callback_url}/jobs/{$request.path.jobId}': {
        put: {
          summary: 'Job finished',
          description: 'Sent when the job ends.',
          operationId: 'jobFinished',
          tags: ['jobs'],
          deprecated: true,
          parameters: [
            { name: 'attempt', in: 'query', required: true, schema: { type: 'integer' } },
            { name: 'note', in: 'query', required: false, example: 'retry', schema: { type: 'string' } },
            { name: 'x-tenant', in: 'header', required: true, description: 'The tenant', schema: { type: 'string' } },
            ...unsignedHeaders
          ],
          requestBody: {
            description: 'The job\'s final state',
            required: true,
            content: {
              'application/json': {
                schema: { type: 'object', required: ['state'], properties: { state: { type: 'string' } }, description: 'The job\'s final state' }
              }
            }
          },
          responses: {
            204: { description: 'Taken' },
            '4XX': {
              description: 'Default Response',
              content: { 'application/json': { schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } } }
            },
            default: {
              description: 'Anything else',
              content: { 'application/json': { schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' } }, description: 'Anything else' } } }
            }
          }
        }
      }
    }
  })
  t.same(await validationErrors(document), [])
})

test('defaults: Title Case summary, unique operationIds, Successful Response', async (t) => {
  const router = callbackRouter()
  router.post('{$request.body#/callback}', { name: 'payment_succeeded', schema: { body: Event } })
  router.get('{$request.body#/callback}', { name: 'payment_succeeded' })
  const app = await appWith()
  const body = Type.Object({ callback: Type.String() })
  app.post('/payments', { schema: { body, callbacks: router.routes } }, async () => ({}))
  app.post('/refunds', { schema: { operationId: 'createRefund', body, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  const payments = callbacksOf(document, '/payments').payment_succeeded['{$request.body#/callback}']
  t.equal(payments.post.summary, 'Payment Succeeded')
  t.equal(payments.post.operationId, 'post_payments_payment_succeeded_post')
  t.equal(payments.get.operationId, 'post_payments_payment_succeeded_get')
  t.same(payments.get.responses, { '2XX': { description: 'Successful Response' } }, 'no response declared: any 2xx')
  t.notOk('requestBody' in payments.get)
  t.same(payments.post.responses, { '2XX': { description: 'Successful Response' } })
  const refunds = callbacksOf(document, '/refunds').payment_succeeded['{$request.body#/callback}']
  t.equal(refunds.post.operationId, 'createRefund_payment_succeeded_post', 'the route\'s operationId keeps them apart')
  t.same(await validationErrors(document), [])
})

test('one name with two expressions keeps operationIds apart by expression', async (t) => {
  const router = callbackRouter()
  router.post('{$request.body#/primary}', { name: 'notify' })
  router.post('{$request.body#/backup}', { name: 'notify' })
  const app = await appWith()
  app.post('/jobs', { schema: { body: Type.Object({ primary: Type.String(), backup: Type.String() }), callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const notify = callbacksOf(app.swagger() as Json).notify
  t.same(Object.keys(notify), ['{$request.body#/primary}', '{$request.body#/backup}'])
  t.equal(notify['{$request.body#/primary}'].post.operationId, 'post_jobs_notify_post_request_body_primary')
  t.equal(notify['{$request.body#/backup}'].post.operationId, 'post_jobs_notify_post_request_body_backup')
})

test('schemas are converted for the document\'s version', async (t) => {
  const Payload = Type.Object({
    kind: Type.Literal('invoice'),
    note: Type.Union([Type.String(), Type.Null()]),
    amount: Type.Number({ examples: [12.5] }),
    lines: Type.Array(Type.Object({ sku: Type.String({ examples: ['A-1', 'B-2'] }) })),
    totals: Type.Record(Type.String(), Type.Number({ examples: [3] })),
    ref: Type.Union([Type.String({ examples: ['r-1'] }), Type.Number()])
  }, { examples: [{ kind: 'invoice', note: null, amount: 1, lines: [], totals: {}, ref: 'r' }] })
  for (const [openapi, expected] of [
    ['3.0.3', {
      example: { kind: 'invoice', note: null, amount: 1, lines: [], totals: {}, ref: 'r' },
      schema: {
        type: 'object',
        required: ['kind', 'note', 'amount', 'lines', 'totals', 'ref'],
        properties: {
          kind: { type: 'string', enum: ['invoice'] },
          note: { type: 'string', nullable: true },
          amount: { type: 'number', example: 12.5 },
          lines: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string', example: 'A-1' } } } },
          totals: { type: 'object', additionalProperties: { type: 'number', example: 3 } },
          ref: { anyOf: [{ type: 'string', example: 'r-1' }, { type: 'number' }] }
        }
      }
    }],
    ['3.1.0', {
      example: { kind: 'invoice', note: null, amount: 1, lines: [], totals: {}, ref: 'r' },
      schema: {
        type: 'object',
        required: ['kind', 'note', 'amount', 'lines', 'totals', 'ref'],
        properties: {
          kind: { type: 'string', enum: ['invoice'] },
          note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          amount: { type: 'number', examples: [12.5] },
          lines: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string', examples: ['A-1', 'B-2'] } } } },
          totals: { type: 'object', additionalProperties: { type: 'number', examples: [3] } },
          ref: { anyOf: [{ type: 'string', examples: ['r-1'] }, { type: 'number' }] }
        }
      }
    }]
  ] as const) {
    const router = callbackRouter()
    router.post('{$request.query.callback_url}', { name: 'sent', schema: { body: Payload } })
    const app = await appWith({ openapi })
    app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    const media = callbacksOf(document).sent['{$request.query.callback_url}'].post.requestBody.content['application/json']
    t.same(media, expected, openapi)
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})

test('shared schemas become components, and no $ref dangles (recursive TypeBox types too)', async (t) => {
  const Node = Type.Recursive(This => Type.Object({ id: Type.String(), children: Type.Array(This) }), { $id: 'TreeNode' })
  const Customer = Type.Object({ name: Type.String() }, { $id: 'Customer' })
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', {
    name: 'tree',
    schema: {
      headers: Type.Object({ 'x-customer': Type.Ref(Customer) }),
      body: Type.Object({ root: Node, customer: Type.Ref(Customer) }),
      response: { 200: Type.Ref(Customer) }
    }
  })
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi })
    app.addSchema(Customer)
    app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    const operation = callbacksOf(document).tree['{$request.query.callback_url}'].post
    const customer = operation.responses['200'].content['application/json'].schema.$ref
    t.match(customer, /^#\/components\/schemas\//)
    t.equal(document.components.schemas[customer.split('/').pop()].title, 'Customer')
    t.equal(operation.parameters[0].schema.$ref, customer)
    t.equal(operation.requestBody.content['application/json'].schema.properties.customer.$ref, customer)
    t.same(await validationErrors(document), [], `${openapi}: valid, every $ref resolves`)
    await app.close()
  }
})

test('content types other than JSON, declared as for routes', async (t) => {
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', {
    name: 'form',
    schema: { consumes: ['application/x-www-form-urlencoded'], produces: ['text/plain'], body: Event, response: { 200: Type.String() } }
  })
  router.post('{$request.query.callback_url}/raw', {
    name: 'raw',
    schema: {
      body: { content: { 'text/csv': { schema: Type.String() }, 'application/xml': {} } },
      response: { 200: { description: 'Stored', content: { 'text/plain': { schema: Type.String() } } } }
    }
  })
  const app = await appWith()
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  const form = callbacksOf(document).form['{$request.query.callback_url}'].post
  t.same(Object.keys(form.requestBody.content), ['application/x-www-form-urlencoded'])
  t.same(form.responses['200'].content, { 'text/plain': { schema: { type: 'string' } } })
  const raw = callbacksOf(document).raw['{$request.query.callback_url}/raw'].post
  t.same(raw.requestBody.content, { 'text/csv': { schema: { type: 'string' } }, 'application/xml': { schema: {} } })
  t.same(raw.responses['200'], { description: 'Stored', content: { 'text/plain': { schema: { type: 'string' } } } })
  t.same(await validationErrors(document), [])
})

test('response headers are documented', async (t) => {
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', {
    name: 'ack',
    schema: { response: { 200: { ...Ack, headers: { 'x-receipt': { type: 'string', description: 'Receipt id' }, 'x-count': { type: 'integer' } } } } }
  })
  const app = await appWith()
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  t.same(callbacksOf(document).ack['{$request.query.callback_url}'].post.responses['200'].headers, {
    'x-receipt': { description: 'Receipt id', schema: { type: 'string' } },
    'x-count': { schema: { type: 'integer' } }
  })
  t.same(await validationErrors(document), [])
})

test('schema.callbacks accepts a definition, a record, and a raw OpenAPI map', async (t) => {
  const router = callbackRouter()
  const single = router.post('{$request.query.callback_url}/single', { name: 'single', schema: { body: Event } })
  const unnamed = router.post('{$request.query.callback_url}/a', { schema: { body: Event } })
  const other = router.delete('{$request.query.callback_url}/b')
  const app = await appWith()
  app.post('/single', { schema: { querystring: callbackUrl, callbacks: single } }, async () => ({}))
  app.post('/record', { schema: { querystring: callbackUrl, callbacks: { created: unnamed, changed: [unnamed, other] } } }, async () => ({}))
  app.post('/raw', {
    schema: {
      querystring: callbackUrl,
      callbacks: {
        rawEvent: {
          '{$request.query.callback_url}': {
            post: { summary: 'Kept', operationId: 'rawEventPost', requestBody: { content: { 'application/json': { schema: Event } } }, responses: { 200: { description: 'OK' } } },
            get: {}
          }
        }
      }
    }
  }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  t.same(Object.keys(callbacksOf(document, '/single')), ['single'])
  t.same(Object.keys(callbacksOf(document, '/record')), ['created', 'changed'])
  t.same(Object.keys(callbacksOf(document, '/record').changed), ['{$request.query.callback_url}/a', '{$request.query.callback_url}/b'])
  t.equal(callbacksOf(document, '/record').changed['{$request.query.callback_url}/a'].post.summary, 'Changed')
  t.same(callbacksOf(document, '/raw'), {
    rawEvent: {
      '{$request.query.callback_url}': {
        post: {
          summary: 'Kept',
          operationId: 'rawEventPost',
          requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['id', 'paid'], properties: { id: { type: 'string' }, paid: { type: 'boolean' } } } } } },
          responses: { 200: { description: 'OK' } }
        },
        get: { responses: { '2XX': { description: 'Default Response' } } }
      }
    }
  }, 'the raw map comes out as @fastify/swagger writes it, its other fields kept')
  t.same(await validationErrors(document), [])
})

test('a raw operation: only its schemas are converted, everything around them stays as written', async (t) => {
  const app = await appWith()
  app.addSchema({ $id: 'Event', ...Event })
  const example = { const: 'not a schema keyword here', $id: 'kept' }
  app.post('/raw', {
    schema: {
      querystring: callbackUrl,
      callbacks: {
        raw: {
          '{$request.query.callback_url}': {
            post: {
              requestBody: { content: { 'application/json': { schema: { $ref: 'Event#' }, example }, 'text/plain': { example: 'no schema' } } },
              responses: {
                200: {
                  description: 'OK',
                  headers: { 'x-kind': { schema: { const: 'event' } }, 'x-free': { description: 'no schema' } },
                  content: { 'application/json': { schema: { type: 'object', properties: { ok: { const: true } } } } }
                },
                default: { $ref: '#/components/responses/Problem' }
              }
            }
          }
        }
      }
    }
  }, async () => ({}))
  await app.ready()
  const operation = callbacksOf(app.swagger() as Json, '/raw').raw['{$request.query.callback_url}'].post
  t.same(operation.requestBody.content, {
    'application/json': { schema: { $ref: '#/components/schemas/def-0' }, example },
    'text/plain': { example: 'no schema' }
  }, 'a shared schema becomes a component; the example is left alone')
  t.same(operation.responses, {
    200: {
      description: 'OK',
      headers: { 'x-kind': { schema: { enum: ['event'] } }, 'x-free': { description: 'no schema' } },
      content: { 'application/json': { schema: { type: 'object', properties: { ok: { enum: [true] } } } } }
    },
    default: { $ref: '#/components/responses/Problem' }
  }, 'schemas are converted as route schemas are (const becomes enum); the rest is kept')
})

test('schemas made with typebox 1.x work as well', async (t) => {
  const router = callbackRouter()
  router.post('{$callback_url}/events/{$request.body.id}', {
    name: 'event',
    schema: { body: Type1.Object({ id: Type1.String(), paid: Type1.Boolean() }), response: { 200: Type1.Object({ ok: Type1.Boolean() }) } }
  })
  const app = await appWith({ openapi: '3.1.0' })
  app.post('/jobs', {
    schema: { querystring: Type1.Object({ callback_url: Type1.String() }), body: Type1.Object({ id: Type1.String() }), callbacks: router.routes }
  }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  const operation = callbacksOf(document).event['{$request.query.callback_url}/events/{$request.body#/id}'].post
  t.same(operation.requestBody.content['application/json'].schema.properties, { id: { type: 'string' }, paid: { type: 'boolean' } })
  t.same(await validationErrors(document), [])
})

test('a custom @fastify/swagger decorator, and the user\'s transform and transformObject, compose', async (t) => {
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', { name: 'done', schema: { body: Event } })
  const app = Fastify()
  await app.register(swagger, {
    decorator: 'publicDocs',
    openapi: { info: { title: 'Public', version: '1.0.0' } },
    transform: ({ schema, url }: any) => ({ schema: { ...schema, tags: ['transformed'] }, url: url.replace('/internal', '') }),
    transformObject: ({ openapiObject }: any) => ({ ...openapiObject, info: { ...openapiObject.info, 'x-transformed': true } } as any)
  } as any)
  await app.register(openapiCallbacks, { decorator: 'publicDocs' })
  app.post('/internal/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = (app as any).publicDocs() as Json
  t.equal(document.info['x-transformed'], true)
  t.same(document.paths['/jobs'].post.tags, ['transformed'])
  t.equal(callbacksOf(document).done['{$request.query.callback_url}'].post.summary, 'Done')
  t.same(parse((app as any).publicDocs({ yaml: true })), document)
  t.equal((app as any).publicDocs({ yaml: true }), (app as any).publicDocs({ yaml: true }), 'the YAML is built once')
  t.same(await validationErrors(document), [])
})

test('the decorator must exist', async (t) => {
  const app = Fastify()
  await app.register(swagger, { decorator: 'publicDocs', openapi: { info: { title: 'Public', version: '1.0.0' } } } as any)
  await t.rejects(async () => { await app.register(openapiCallbacks) }, {
    code: 'FST_OPENAPI_CALLBACKS_NO_SWAGGER_DECORATOR',
    message: '@fastify/swagger\'s decorator "swagger" was not found: register @fastify/swagger before this plugin, and give this plugin the same `decorator` option you gave @fastify/swagger'
  })
})

test('the plugin declares its dependency on @fastify/swagger', async (t) => {
  const app = Fastify()
  await t.rejects(async () => { await app.register(openapiCallbacks) }, { message: /@fastify\/swagger/ })
})

test('Swagger 2.0 cannot express callbacks: one clear warning, nothing invalid', async (t) => {
  const warnings: string[] = []
  const stream = { write: (line: string) => { const entry = JSON.parse(line); if (entry.level === 40) warnings.push(entry.msg) } }
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(swagger, { swagger: { info: { title: 'Old', version: '1.0.0' } } })
  await app.register(openapiCallbacks)
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', { name: 'done' })
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  app.post('/more', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  app.swagger({ yaml: true })
  t.equal(document.swagger, '2.0')
  t.notOk('callbacks' in document.paths['/jobs'].post)
  t.same(warnings, ['Swagger 2.0 cannot express callbacks, so they are left out of this document. Set @fastify/swagger\'s `openapi` option to document them.'])
  t.same(await validationErrors(document), [])
  await app.close()
})

test('Swagger 2.0 without callbacks stays quiet', async (t) => {
  const warnings: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { warnings.push(line) } } } })
  await app.register(swagger, { swagger: { info: { title: 'Old', version: '1.0.0' } } })
  await app.register(openapiCallbacks)
  app.get('/plain', async () => ({}))
  await app.ready()
  t.same(warnings, [])
})

test('a route the plugin did not see fails at ready()', async (t) => {
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', { name: 'done' })
  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'T', version: '1.0.0' } } })
  app.post('/early', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.register(openapiCallbacks)
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_UNPROCESSED_ROUTE',
    message: 'POST /early declares callbacks that fastify-openapi-callbacks did not process. Register fastify-openapi-callbacks right after @fastify/swagger, before any route, and in the same context or a parent of the routes that declare callbacks.'
  })
})

test('a route in a context the plugin does not see fails at ready()', async (t) => {
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', { name: 'done' })
  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'T', version: '1.0.0' } } })
  app.register(async (sibling) => {
    sibling.post('/sibling', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  })
  app.register(async (child) => { await child.register(openapiCallbacks) })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_OPENAPI_CALLBACKS_UNPROCESSED_ROUTE', message: /^POST \/sibling declares callbacks/ })
})

test('routes without callbacks, hidden routes and GET routes with their HEAD twin', async (t) => {
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', { name: 'done', operationId: 'jobDone' })
  const app = await appWith({ swaggerOptions: { exposeHeadRoutes: true } })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/jobs', { schema: { operationId: 'getJobs', querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  app.get('/hidden', { schema: { operationId: 'getJobs', hide: true } }, async () => ({}))
  app.get('/plain', async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  t.equal(document.paths['/jobs'].get.callbacks.done['{$request.query.callback_url}'].post.operationId, 'jobDone')
  t.notOk('callbacks' in document.paths['/jobs'].head, 'a HEAD request sends no callbacks')
  t.same(await validationErrors(document), [])
})

test('a parameter container may be a shared schema; several examples become named examples', async (t) => {
  const TenantHeaders = Type.Object({ 'x-tenant': Type.String() }, { $id: 'TenantHeaders' })
  const router = callbackRouter()
  router.post('{$request.query.callback_url}', {
    name: 'sent',
    schema: {
      querystring: Type.Object({ page: Type.Optional(Type.Integer()) }),
      headers: Type.Ref(TenantHeaders),
      body: Type.Object({ id: Type.String() }, { examples: [{ id: 'a' }, { id: 'b' }] })
    }
  })
  const app = await appWith()
  app.addSchema(TenantHeaders)
  app.post('/jobs', { schema: { querystring: callbackUrl, callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  const operation = callbacksOf(document).sent['{$request.query.callback_url}'].post
  t.same(operation.parameters, [
    { name: 'page', in: 'query', required: false, schema: { type: 'integer' } },
    { name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } },
    ...unsignedHeaders
  ], 'the shared schema\'s properties are the parameters')
  t.same(operation.requestBody.content['application/json'].examples, { example1: { value: { id: 'a' } }, example2: { value: { id: 'b' } } })
  t.same(await validationErrors(document), [])
})

test('an object the app gives several routes is written out in each place in the YAML, with no anchors or aliases', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  // one raw map, its parameters and examples objects, on two routes
  const parameters = [{ name: 'x-trace', in: 'header', schema: { type: 'string' } }]
  const raw = { event: { '{$request.body#/callback_url}': { post: { parameters, responses: { 200: { description: 'OK' } } } } } }
  const body = { type: 'object', properties: { callback_url: { type: 'string' } } }
  app.post('/a', { schema: { body, callbacks: raw } }, async () => ({}))
  app.post('/b', { schema: { body, callbacks: raw } }, async () => ({}))
  await app.ready()
  const yaml = app.swagger({ yaml: true }) as string
  t.notMatch(yaml, /[&*]a\d+\b/, 'no anchor, no alias')
  t.same(parse(yaml), JSON.parse(JSON.stringify(app.swagger())), 'the same document')
  t.same(parse(yaml).paths['/b'].post.callbacks.event['{$request.body#/callback_url}'].post.parameters, parameters)
})
