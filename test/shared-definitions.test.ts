import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

// One router on many routes, as an API documents the same callbacks on each of its resources
const router = callbackRouter()
router.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_paid',
  schema: {
    body: Type.Object({ description: Type.String({ examples: ['Paid in full'] }), paid: Type.Boolean() }),
    response: { 200: Type.Object({ ok: Type.Boolean() }) }
  }
})
router.post('{$callback_url}/invoices/{$request.body.id}/refunds', {
  name: 'invoice_refunded',
  schema: { body: Type.Object({ amount: Type.Number() }) }
})
const querystring = Type.Object({ callback_url: Type.String({ format: 'uri' }) })
const body = Type.Object({ id: Type.String(), total: Type.Number() })
const paths = ['/invoices/a', '/invoices/b', '/invoices/c']

async function documentOf (openapi: string, schemaOf: () => { querystring: Json, body: Json }) {
  const app = await appWith({ openapi, pluginOptions: { delivery: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } } })
  for (const path of paths) app.post(path, { schema: { ...schemaOf(), callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  yamlOf.set(document, app.swagger({ yaml: true }) as string)
  await app.close()
  return document
}
const yamlOf = new WeakMap<Json, string>()

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`${openapi}: routes that share their schema objects get the same document as routes with copies, and operations of their own`, async (t) => {
    const shared = await documentOf(openapi, () => ({ querystring, body }))
    const copied = await documentOf(openapi, () => structuredClone({ querystring, body }))
    t.same(shared, copied)
    t.same(await validationErrors(shared), [])

    const callbacksOf = (path: string) => shared.paths[path].post.callbacks
    const operation = callbacksOf('/invoices/a').invoice_paid['{$request.query.callback_url}/invoices/{$request.body#/id}'].post
    t.same(operation.parameters.map((parameter: Json) => parameter.name), ['webhook-id', 'webhook-timestamp', 'webhook-signature'])
    const description = operation.requestBody.content['application/json'].schema.properties.description
    // 3.0 has no `examples` keyword: a nested one becomes `example`, as for route bodies
    t.same(description, openapi === '3.0.3' ? { type: 'string', example: 'Paid in full' } : { type: 'string', examples: ['Paid in full'] })

    // an operation of its own on each route; the body they share is written out in full each time
    const operations = paths.map(path => callbacksOf(path).invoice_paid['{$request.query.callback_url}/invoices/{$request.body#/id}'].post)
    t.same(operations.map(({ operationId }: Json) => operationId), ['post_invoices_a_invoice_paid_post', 'post_invoices_b_invoice_paid_post', 'post_invoices_c_invoice_paid_post'])
    const yaml = yamlOf.get(shared)!
    t.notMatch(yaml, /[&*]a\d|<<:/, 'no YAML anchor or alias')
    t.equal(yaml.match(/name: webhook-signature/g)?.length, paths.length * 2, 'each operation spells out its signature header')
  })
}

test('routes that share a schema object are still each checked: the one whose body lacks the field fails, naming it', async (t) => {
  const app = await appWith()
  app.register(async (api) => {
    api.post('/invoices/a', { schema: { querystring, body, callbacks: router.routes } }, async () => ({}))
    api.post('/invoices/b', { schema: { querystring, body, callbacks: router.routes } }, async () => ({}))
    // the same querystring object, another body: the expression `$request.body#/id` cannot be read from it
    api.post('/invoices/c', { schema: { querystring, body: Type.Object({ total: Type.Number() }), callbacks: router.routes } }, async () => ({}))
  })
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^route POST \/invoices\/c, callback "invoice_paid": runtime expression "\$request\.body\.id"/
  })
})

test('a route whose querystring is another object, without the parameter, fails too, after routes that passed', async (t) => {
  const app = await appWith()
  app.register(async (api) => {
    api.post('/invoices/a', { schema: { querystring, body, callbacks: router.routes } }, async () => ({}))
    api.post('/invoices/d', { schema: { querystring: Type.Object({ page: Type.Number() }), body, callbacks: router.routes } }, async () => ({}))
  })
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^route POST \/invoices\/d, callback "invoice_paid": runtime expression "\$callback_url"/
  })
})

test('a key checked through a shared schema ($ref) is checked again on each route, against that route\'s own shared schemas', async (t) => {
  const app = await appWith()
  const referenced = { $ref: 'Query#' }
  app.register(async (api) => {
    api.addSchema({ $id: 'Query', type: 'object', properties: { callback_url: { type: 'string' } } })
    api.post('/invoices/a', { schema: { querystring: referenced, body, callbacks: router.routes } }, async () => ({}))
  })
  app.register(async (api) => {
    // the same `$ref` object, but this context's shared schema `Query` has no callback_url
    api.addSchema({ $id: 'Query', type: 'object', properties: { page: { type: 'number' } } })
    api.post('/invoices/b', { schema: { querystring: referenced, body, callbacks: router.routes } }, async () => ({}))
  })
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^route POST \/invoices\/b, callback "invoice_paid"/
  })
})

test('a schema object the app changes before a second app declares it is checked again there', async (t) => {
  // the same route schema objects in two apps of one process, as a test suite builds an app per test
  const changing = Type.Object({ id: Type.String(), total: Type.Number() })
  const first = await appWith()
  first.post('/invoices/a', { schema: { querystring, body: changing, callbacks: router.routes } }, async () => ({}))
  await first.ready()
  await first.close()

  delete (changing.properties as Json).id
  const second = await appWith()
  second.post('/invoices/a', { schema: { querystring, body: changing, callbacks: router.routes } }, async () => ({}))
  await t.rejects(async () => { await second.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^route POST \/invoices\/a, callback "invoice_paid": runtime expression "\$request\.body\.id"/
  })
})

test('a definition whose schema objects the app changes before a second app reads it is described anew there', async (t) => {
  const parameters: Json = Type.Object({ page: Type.String() })
  const paidBody = Type.Object({ note: Type.String() })
  const changed = callbackRouter()
  changed.post('{$callback_url}/paid', { name: 'paid', schema: { querystring: parameters, body: paidBody } })
  async function operationOf () {
    const app = await appWith({ openapi: '3.0.3' })
    app.post('/invoices/a', { schema: { querystring, body, callbacks: changed.routes } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    await app.close()
    return { errors: await validationErrors(document), operation: document.paths['/invoices/a'].post.callbacks.paid['{$request.query.callback_url}/paid'].post }
  }
  t.same((await operationOf()).operation.parameters.map((parameter: Json) => parameter.name), ['page', 'webhook-id', 'webhook-timestamp'])

  parameters.properties = { cursor: Type.String() }
  // 3.0 has no `examples` keyword: the nested one must become `example`
  paidBody.properties.note = Type.String({ examples: ['Paid in full'] })
  const { errors, operation } = await operationOf()
  t.same(operation.parameters.map((parameter: Json) => parameter.name), ['cursor', 'webhook-id', 'webhook-timestamp'])
  t.same(operation.requestBody.content['application/json'].schema.properties.note, { type: 'string', example: 'Paid in full' })
  t.same(errors, [])
})
