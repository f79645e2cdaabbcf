import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { stringify } from 'yaml'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'

const Receipt = Type.Object({ receipt_url: Type.String() })
const confirmed = callbackRouter().post('{$request.body#/confirm_url}/confirmed', { name: 'confirmed', schema: { body: Receipt } })
const receipt = callbackRouter().post('{$request.body#/receipt_url}', {
  name: 'receipt',
  schema: { body: Type.Object({ confirm_url: Type.String() }) },
  callbacks: [confirmed]
})
const Ack = Type.Object({ status_url: Type.String() })
const status = callbackRouter().get('{$response.body#/status_url}', { name: 'status', hide: false })
const event = callbackRouter().post('{$request.body#/callback_url}/events', {
  name: 'event',
  schema: { body: Type.Object({ receipt_url: Type.String() }), response: { 200: Ack } },
  callbacks: { receipt, status }
})
const Order = Type.Object({ callback_url: Type.String() })

test('nested callbacks are documented under the callback operation, recursively, in 3.0 and 3.1', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi })
    app.post('/orders', { schema: { body: Order, callbacks: [event] } }, async () => ({}))
    app.post('/refunds', { schema: { body: Order, callbacks: [event] } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    const operation = document.paths['/orders'].post.callbacks.event['{$request.body#/callback_url}/events'].post
    t.same(Object.keys(operation.callbacks), ['receipt', 'status'])
    const nested = operation.callbacks.receipt['{$request.body#/receipt_url}'].post
    t.equal(nested.operationId, 'post_orders_event_post_receipt_post')
    t.same(nested.requestBody.content['application/json'].schema.required, ['confirm_url'])
    const deepest = nested.callbacks.confirmed['{$request.body#/confirm_url}/confirmed'].post
    t.equal(deepest.operationId, 'post_orders_event_post_receipt_post_confirmed_post')
    t.same(deepest.requestBody.content['application/json'].schema.properties, { receipt_url: { type: 'string' } })
    t.equal(operation.callbacks.status['{$response.body#/status_url}'].get.summary, 'Status')
    t.equal(document.paths['/refunds'].post.callbacks.event['{$request.body#/callback_url}/events'].post.callbacks.receipt['{$request.body#/receipt_url}'].post.operationId, 'post_refunds_event_post_receipt_post', 'each use its own ids')
    t.match(app.swagger({ yaml: true }), /post_orders_event_post_receipt_post_confirmed_post/)
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})

test('a nested callback\'s expressions read the callback operation\'s schemas, not the route\'s: a fault names route, callbacks and expression', async (t) => {
  // the route's body has callback_url; the callback's body does not
  const reads = callbackRouter().post('{$request.body#/callback_url}', { name: 'reads' })
  const outer = callbackRouter().post('{$request.body#/callback_url}', { name: 'outer', schema: { body: Type.Object({ other: Type.String() }) }, callbacks: [reads] })
  const app = await appWith({ openapi: '3.1.0' })
  app.post('/orders', { schema: { body: Order, callbacks: [outer] } }, async () => ({}))
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^route POST \/orders, callback "outer", callback "reads": runtime expression "\$request\.body#\/callback_url"/
  })
  const noResponse = callbackRouter().post('{$request.body#/callback_url}', { name: 'outer', callbacks: [status] })
  const other = await appWith({ openapi: '3.1.0' })
  other.post('/status', { schema: { body: Order, callbacks: [noResponse] } }, async () => ({}))
  await t.rejects(async () => { await other.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /callback "outer", callback "status": runtime expression "\$response\.body#\/status_url"/
  })
})

test('bad nested callbacks are coded startup errors naming route and callback', async (t) => {
  const one = callbackRouter().post('{$url}', { name: 'twice' })
  const cases: Array<[unknown, string, RegExp]> = [
    [{ raw: { '{$url}': { post: {} } } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', /callback "outer": callbacks of a callback must be router\.routes/],
    [['x'], 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', /callback "outer": callbacks\[0\] is not a callback definition/],
    [[one, one], 'FST_OPENAPI_CALLBACKS_DUPLICATE', /callback "outer", callback "twice": POST \{\$url\} is declared twice/]
  ]
  for (const [index, [callbacks, code, message]] of cases.entries()) {
    const outer = callbackRouter().post('{$url}', { name: 'outer', callbacks: callbacks as any })
    const app = await appWith({ openapi: '3.1.0' })
    app.post(`/r${index}`, { schema: { callbacks: [outer] } }, async () => ({}))
    await t.rejects(async () => { await app.ready() }, { code, message: new RegExp(`^route POST /r${index}, ${message.source}`) })
  }
})

test('a hidden nested callback is checked but not documented', async (t) => {
  const hidden = callbackRouter().post('{$request.body#/receipt_url}', { name: 'hidden', hide: true })
  const outer = callbackRouter().post('{$request.body#/callback_url}', { name: 'outer', schema: { body: Type.Object({ receipt_url: Type.String() }) }, callbacks: [hidden] })
  const app = await appWith({ openapi: '3.1.0' })
  app.post('/orders', { schema: { body: Order, callbacks: [outer] } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as any
  t.equal(document.paths['/orders'].post.callbacks.outer['{$request.body#/callback_url}'].post.callbacks, undefined)
  t.notMatch(stringify(document), /hidden/i)
  await app.close()
})

test('a webhook takes nested callbacks as a callback definition does: documented under it, checked against its own schemas, in 3.1 and 3.2', async (t) => {
  const Subscription = Type.Object({ receipt_url: Type.String(), callback_url: Type.String() })
  const hidden = callbackRouter().post('{$request.body#/callback_url}', { name: 'hidden', hide: true })
  for (const openapi of ['3.1.0', '3.2.0']) {
    const app = await appWith({ openapi })
    app.webhooks.post('subscribed', { schema: { body: Subscription }, callbacks: { receipt, hidden } })
    app.webhooks.route({ method: 'PUT', name: '__proto__', schema: { body: Subscription }, callbacks: [receipt] })
    await app.ready()
    const document = app.swagger() as any
    const webhook = document.webhooks.subscribed.post
    t.same(Object.keys(webhook.callbacks), ['receipt'], `${openapi}: the hidden one documented nowhere`)
    const nested = webhook.callbacks.receipt['{$request.body#/receipt_url}'].post
    t.equal(nested.operationId, 'webhook_subscribed_post_receipt_post')
    t.same(nested.requestBody.content['application/json'].schema.required, ['confirm_url'])
    t.equal(nested.callbacks.confirmed['{$request.body#/confirm_url}/confirmed'].post.operationId, 'webhook_subscribed_post_receipt_post_confirmed_post', 'recursively')
    t.equal(Object.getOwnPropertyDescriptor(document.webhooks, '__proto__')!.value.put.callbacks.receipt['{$request.body#/receipt_url}'].post.operationId, 'webhook_proto_put_receipt_post')
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})

test('bad callbacks of a webhook are coded errors where it is declared, naming the webhook and the callback', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  const reads = callbackRouter().post('{$request.body#/callback_url}', { name: 'reads' })
  t.throws(() => app.webhooks.post('a', { schema: { body: Type.Object({ other: Type.String() }) }, callbacks: [reads] }), {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^webhook POST "a", callback "reads": runtime expression "\$request\.body#\/callback_url" at position 1 /
  })
  t.throws(() => app.webhooks.post('b', { callbacks: { raw: { '{$url}': { post: {} } } } as never }), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: 'webhook POST "b": callbacks of a webhook must be router.routes, a callback definition or a record of them'
  })
  t.throws(() => app.webhooks.post('c', { callbacks: ['x'] as never }), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: 'webhook POST "c": callbacks[0] is not a callback definition: make it with callbackRouter()'
  })
  // a callback with the QUERY method only from OpenAPI 3.2
  app.webhooks.post('d', { callbacks: [callbackRouter().route({ method: 'QUERY', url: '{$url}', name: 'lookup' })] })
  await t.rejects(async () => await app.ready(), {
    code: 'FST_OPENAPI_CALLBACKS_QUERY_NEEDS_3_2',
    message: 'webhook POST "d", callback "lookup": QUERY {$url} uses the QUERY method, which OpenAPI has only since 3.2.0. Set @fastify/swagger\'s `openapi.openapi` to \'3.2.0\''
  })
  await app.close()
})

test('callbacks that nest a definition inside itself, or nest too deep, are coded errors, not a stack overflow', async (t) => {
  const Step = Type.Object({ next_url: Type.String() })
  /** A chain of `levels` callback definitions, each the only callback of the one before. */
  const chain = (levels: number) => {
    let inner = callbackRouter().post('{$request.body#/next_url}', { name: 'step', schema: { body: Step } })
    for (let level = 1; level < levels; level++) inner = callbackRouter().post('{$request.body#/next_url}', { name: 'step', schema: { body: Step }, callbacks: [inner] })
    return inner
  }
  const tooDeep = { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message: /callbacks nest more than 32 levels deep, or a definition is among its own callbacks$/ }
  // a record the app changes after the definition is made, to hold the definition itself
  const record: Record<string, unknown> = {}
  const itself = callbackRouter().post('{$request.body#/next_url}', { name: 'itself', schema: { body: Step }, callbacks: record as never })
  record.itself = itself
  for (const sharedCallbacks of [false, true]) {
    const app = await appWith({ openapi: '3.1.0', pluginOptions: { document: { sharedCallbacks } } })
    app.post('/deepest', { schema: { body: Step, callbacks: [chain(32)] } }, async () => ({}))
    await app.ready()
    t.same(await validationErrors(app.swagger() as any), [], `32 levels are documented (sharedCallbacks: ${sharedCallbacks})`)
    await app.close()
    for (const callbacks of [[chain(33)], [itself]]) {
      const failing = await appWith({ openapi: '3.1.0', pluginOptions: { document: { sharedCallbacks } } })
      failing.post('/orders', { schema: { body: Step, callbacks } }, async () => ({}))
      await t.rejects(async () => { await failing.ready() }, { ...tooDeep, message: new RegExp(`^route POST /orders, callback "(step|itself)", callback "\\1".*${tooDeep.message.source}`) })
      await failing.close()
    }
  }
  const app = await appWith({ openapi: '3.1.0' })
  t.throws(() => app.webhooks.post('order.placed', { schema: { body: Step }, callbacks: record as never }), { ...tooDeep, message: new RegExp(`^webhook POST "order\\.placed", callback "itself", callback "itself".*${tooDeep.message.source}`) })
  await app.close()
})
