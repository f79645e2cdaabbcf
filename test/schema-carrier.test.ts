import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

// A definition's schemas (and the webhooks') reach @fastify/swagger's conversion once, in one shared schema that the
// plugin takes out of the built document again.

const router = callbackRouter()
router.post('{$request.query.callback_url}/paid', { name: 'paid', schema: { body: Type.Object({ id: Type.String(), total: Type.Number({ minimum: 0 }) }) } })

async function appDropping (drop: (document: Json) => void, openapi = '3.1.0') {
  return await appWith({ openapi, swaggerOptions: { transformObject: ({ openapiObject }: any) => { drop(openapiObject); return openapiObject } } })
}

const dropComponents = (document: Json): void => { document.components.schemas = {} }

test('a transformObject that drops the components it does not know fails ready() with a coded error naming the callback', async (t) => {
  for (const drop of [dropComponents, (document: Json) => { delete document.components }]) {
    const app = await appDropping(drop)
    app.post('/invoices', { schema: { querystring: Type.Object({ callback_url: Type.String() }), callbacks: router.routes } }, async () => ({}))
    await t.rejects(async () => { await app.ready() }, {
      code: 'FST_OPENAPI_CALLBACKS_CARRIER_LOST',
      message: /^route POST \/invoices, callback "paid": its schemas travel through @fastify\/swagger in the shared schema "fastify-openapi-callbacks-carrier", which is missing from the built document/
    })
    await app.close()
  }
})

test('the same for a webhook, whatever the version: in 3.0 too, where webhooks are left out', async (t) => {
  for (const openapi of ['3.1.0', '3.0.3']) {
    const app = await appDropping(dropComponents, openapi)
    app.webhooks.post('subscribed', { schema: { body: Type.Object({ id: Type.String() }) } })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_OPENAPI_CALLBACKS_CARRIER_LOST', message: /^webhook POST "subscribed": / }, openapi)
    await app.close()
  }
})

test('a transformObject that keeps the carrier: every route documents the definition in full, and the carrier is gone', async (t) => {
  const app = await appWith({ openapi: '3.1.0', swaggerOptions: { transformObject: ({ openapiObject }: any) => openapiObject } })
  for (const path of ['/a', '/b']) app.post(path, { schema: { querystring: Type.Object({ callback_url: Type.String() }), callbacks: router.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  for (const path of ['/a', '/b']) {
    const operation = document.paths[path].post.callbacks.paid['{$request.query.callback_url}/paid'].post
    t.same(operation.requestBody.content['application/json'].schema, {
      type: 'object',
      properties: { id: { type: 'string' }, total: { type: 'number', minimum: 0 } },
      required: ['id', 'total']
    }, path)
  }
  t.same(document.components.schemas, {}, 'the carrier is not among the components')
  t.same(await validationErrors(document), [])
  await app.close()
})

test('schemas that travel with their route (examples, a recursive $id) come back to each of its operations, in order', async (t) => {
  const Node = Type.Recursive(This => Type.Object({ id: Type.String(), children: Type.Array(This) }))
  const travelling = callbackRouter()
  travelling.post('{$request.query.callback_url}/paid', { name: 'paid', schema: { body: Type.Object({ total: Type.Number() }, { examples: [{ total: 1 }] }) } })
  travelling.post('{$request.query.callback_url}/tree', { name: 'tree', schema: { body: Type.Object({ tree: Node }), response: { 200: Type.Object({ ok: Type.Boolean() }, { examples: [{ ok: true }] }) } } })
  travelling.post('{$request.query.callback_url}/shared', { name: 'shared', schema: { body: Type.Object({ id: Type.String() }) } })
  const app = await appWith({ openapi: '3.1.0' })
  for (const path of ['/a', '/b']) app.post(path, { schema: { querystring: Type.Object({ callback_url: Type.String() }), callbacks: travelling.routes } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  for (const path of ['/a', '/b']) {
    const { paid, tree, shared } = document.paths[path].post.callbacks
    t.same(paid['{$request.query.callback_url}/paid'].post.requestBody.content['application/json'], {
      schema: { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] },
      example: { total: 1 }
    }, `${path}: the first operation's own schema and example`)
    const treeOperation = tree['{$request.query.callback_url}/tree'].post
    t.match(treeOperation.requestBody.content['application/json'].schema, { type: 'object', properties: { tree: { $ref: /^#\/components\/schemas\/def-\d+$/ } } }, `${path}: the second's`)
    t.same(treeOperation.responses['200'].content['application/json'].example, { ok: true })
    t.same(shared['{$request.query.callback_url}/shared'].post.requestBody.content['application/json'].schema, { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, `${path}: the shared carrier's`)
  }
  t.same(await validationErrors(document), [])
  await app.close()
})
