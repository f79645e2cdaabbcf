import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import type { FastifyOpenapiCallbacksOptions } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'

const UNRESOLVED = 'FST_OPENAPI_CALLBACKS_UNRESOLVED_REF'
const Order = Type.Object({ callback_url: Type.String() })
const KEY = '{$request.body#/callback_url}'
const InvoiceEvents = { [KEY]: { post: { requestBody: { content: { 'application/json': { schema: { type: 'object' } } } }, responses: { 200: { description: 'OK' } } } } }
const VERSIONS = ['3.0.3', '3.1.0', '3.2.0']

function appWithCallbacks (openapi: string, callbacks: Record<string, unknown>, pluginOptions: FastifyOpenapiCallbacksOptions = {}) {
  return appWith({ openapi, pluginOptions, swaggerOptions: { openapi: { openapi, info: { title: 'Test', version: '1.0.0' }, components: { callbacks } as never } } })
}

test('a callback may be a Reference Object to components.callbacks, beside raw callbacks, under any name, in 3.0, 3.1 and 3.2', async (t) => {
  for (const openapi of VERSIONS) {
    const app = await appWithCallbacks(openapi, { InvoiceEvents, Alias: { $ref: '#/components/callbacks/InvoiceEvents' } })
    const callbacks = {
      ['__proto__']: { $ref: '#/components/callbacks/InvoiceEvents', summary: 'Invoice events', description: 'Sent as the invoice changes' },
      raw: { [KEY]: { put: { responses: { 204: { description: 'Done' } } } } },
      alias: { $ref: '#/components/callbacks/Alias' }
    }
    app.post('/orders', { schema: { body: Order, callbacks } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    const documented = document.paths['/orders'].post.callbacks
    t.same(Object.keys(documented), ['__proto__', 'raw', 'alias'], `${openapi}: the names, in order, __proto__ an own property`)
    t.same(Object.getOwnPropertyDescriptor(documented, '__proto__')!.value, openapi.startsWith('3.0')
      ? { $ref: '#/components/callbacks/InvoiceEvents' }
      : { $ref: '#/components/callbacks/InvoiceEvents', summary: 'Invoice events', description: 'Sent as the invoice changes' },
    `${openapi}: the reference, its summary and description only where a Reference Object can have them`)
    t.same(documented.alias, { $ref: '#/components/callbacks/Alias' })
    t.same(Object.keys(documented.raw[KEY]), ['put'])
    t.same(document.components.callbacks, { InvoiceEvents, Alias: { $ref: '#/components/callbacks/InvoiceEvents' } }, 'the app\'s components, as given')
    t.match(app.swagger({ yaml: true }), /__proto__:\n {10}\$ref: "#\/components\/callbacks\/InvoiceEvents"/)
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})

test('one Reference Object the app gives several routes is written for each: no object shared, none of the app\'s, no YAML alias', async (t) => {
  for (const openapi of VERSIONS) {
    const app = await appWithCallbacks(openapi, { InvoiceEvents })
    const reference = { $ref: '#/components/callbacks/InvoiceEvents', summary: 'Invoice events' }
    app.post('/orders', { schema: { body: Order, callbacks: { events: reference } } }, async () => ({}))
    app.post('/refunds', { schema: { body: Order, callbacks: { events: reference } } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    const [orders, refunds] = ['/orders', '/refunds'].map(path => document.paths[path].post.callbacks.events)
    t.same(orders, refunds)
    t.not(orders, refunds, `${openapi}: an object for each route`)
    t.not(orders, reference, `${openapi}: not the app's own object, which a transformObject could change`)
    t.notMatch(app.swagger({ yaml: true }), /[&*]a\d/, `${openapi}: no YAML anchor or alias`)
    t.same(reference, { $ref: '#/components/callbacks/InvoiceEvents', summary: 'Invoice events' })
    await app.close()
  }
})

test('a $ref that does not resolve in the document fails ready(), naming the route, the callback and the ref', async (t) => {
  const cases: Array<[callbacks: Record<string, unknown>, ref: string, fault: string]> = [
    [{}, '#/components/callbacks/Missing', 'reaches "#/components/callbacks/Missing", which the document does not have: declare it in @fastify/swagger\'s `openapi.components.callbacks`'],
    [{ A: { $ref: '#/components/callbacks/B' } }, '#/components/callbacks/A', 'reaches "#/components/callbacks/B", which the document does not have: declare it in @fastify/swagger\'s `openapi.components.callbacks`'],
    [{ A: { $ref: '#/components/callbacks/B' }, B: { $ref: '#/components/callbacks/A' } }, '#/components/callbacks/A', 'leads to a cycle of $refs under components.callbacks'],
    [{ A: 'not an object' }, '#/components/callbacks/A', 'does not reach a Callback Object, which maps runtime expressions to Path Items'],
    [{ A: { $ref: '#/components/schemas/A' } }, '#/components/callbacks/A', 'reaches "#/components/schemas/A", which is not a Callback Object of this document: write "#/components/callbacks/<name>", the name made of A-Z, a-z, 0-9, ".", "-" and "_"'],
    // an inherited property is no component
    [{}, '#/components/callbacks/constructor', 'reaches "#/components/callbacks/constructor", which the document does not have: declare it in @fastify/swagger\'s `openapi.components.callbacks`']
  ]
  for (const [components, ref, fault] of cases) {
    const app = await appWithCallbacks('3.1.0', components)
    app.post('/orders', { schema: { body: Order, callbacks: { events: { $ref: ref } } } }, async () => ({}))
    await t.rejects(async () => await app.ready(), { code: UNRESOLVED, message: `route POST /orders, callback "events": the $ref "${ref}" ${fault}` })
    await app.close()
  }
})

test('a $ref that cannot point at a Callback Object of the document, or a malformed Reference Object, fails ready(), naming the route and the callback', async (t) => {
  const fault = 'is not a Callback Object of this document: write "#/components/callbacks/<name>", the name made of A-Z, a-z, 0-9, ".", "-" and "_"'
  const ref = '#/components/callbacks/InvoiceEvents'
  const cases: Array<[callbacks: Record<string, unknown>, code: string, message: string]> = [
    ...['#/components/schemas/InvoiceEvents', 'other.yaml#/components/callbacks/InvoiceEvents', '#/components/callbacks/', '#/components/callbacks/a b', '#/components/callbacks/a/b']
      .map((bad): [Record<string, unknown>, string, string] => [{ events: { $ref: bad } }, UNRESOLVED, `the $ref "${bad}" ${fault}`]),
    [{ events: { $ref: ref, post: {} } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'a Reference Object takes only $ref, summary and description, not "post"'],
    [{ events: { $ref: ref, summary: 1 } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', 'the Reference Object\'s summary must be a string']
  ]
  for (const [callbacks, code, message] of cases) {
    const app = await appWithCallbacks('3.1.0', { InvoiceEvents })
    app.post('/orders', { schema: { body: Order, callbacks: callbacks as never } }, async () => ({}))
    await t.rejects(async () => { await app.ready() }, { code, message: `route POST /orders, callback "events": ${message}` })
    await app.close()
  }
  const app = await appWithCallbacks('3.1.0', { InvoiceEvents })
  app.routeCallbacks([callbackRouter().post(KEY, { name: 'events' })])
  app.post('/orders', { schema: { body: Order, callbacks: { events: { $ref: ref } } } }, async () => ({}))
  await t.rejects(async () => { await app.ready() },
    { code: 'FST_OPENAPI_CALLBACKS_DUPLICATE', message: 'route POST /orders, callback "events": this name is given a $ref and a callback definition; a name holds one Callback Object' })
  await app.close()
})

test('the expressions of a $ref\'d Callback Object are checked against each route that refers to it, as a raw map\'s', async (t) => {
  const app = await appWithCallbacks('3.1.0', { InvoiceEvents })
  app.post('/orders', { schema: { body: Order, callbacks: { events: { $ref: '#/components/callbacks/InvoiceEvents' } } } }, async () => ({}))
  app.post('/refunds', { schema: { body: Type.Object({ id: Type.String() }), callbacks: { events: { $ref: '#/components/callbacks/InvoiceEvents' } } } }, async () => ({}))
  await t.rejects(async () => await app.ready(), {
    code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    message: /^route POST \/refunds, callback "events": runtime expression "\$request\.body#\/callback_url" at position 1 /
  })
  await app.close()
})

test('a $ref\'d callback is documented only: like a raw map\'s, it has no definition for target() to resolve', async (t) => {
  const app = await appWithCallbacks('3.1.0', { InvoiceEvents })
  const events = callbackRouter().post(KEY, { name: 'events' })
  app.post('/orders', { schema: { body: Order, callbacks: { events: { $ref: '#/components/callbacks/InvoiceEvents' } } } }, async (request) => app.callbacks.target(events, request))
  const response = await app.inject({ method: 'POST', url: '/orders', payload: { callback_url: 'https://example.com/hook' } })
  t.equal(response.json().code, 'FST_OPENAPI_CALLBACKS_CALLBACK_NOT_ON_ROUTE')
  await app.close()
})

const paid = callbackRouter().post(`${KEY}/paid`, { name: 'paid', schema: { querystring: Type.Object({ page: Type.Optional(Type.String()) }), body: Type.Object({ id: Type.String(), amount: Type.Ref('Amount') }) } })
const shipped = callbackRouter().post(`${KEY}/shipped`, { name: 'shipped' })

test('document.sharedCallbacks: a Callback Object several routes document identically is emitted once and $ref\'d, in 3.0, 3.1 and 3.2', async (t) => {
  for (const openapi of VERSIONS) {
    const app = await appWithCallbacks(openapi, { paid: InvoiceEvents }, { document: { sharedCallbacks: true }, delivery: { allowHttp: true, allow: ['127.0.0.1'] } })
    app.addSchema({ $id: 'Amount', type: 'integer' })
    const target = async (request: any) => app.callbacks.target(paid, request)
    app.post('/orders', { schema: { body: Order, callbacks: [paid, shipped] } }, target)
    app.post('/refunds', { schema: { body: Order, callbacks: [paid, shipped] } }, target)
    // another definition under the same name is another Callback Object
    const otherPaid = callbackRouter().post(`${KEY}/paid`, { name: 'paid' })
    const unnamed = callbackRouter().post(`${KEY}/unnamed`)
    app.post('/other', { schema: { body: Order, callbacks: { paid: otherPaid, 'once only': unnamed, 'a name/not a component\'s': unnamed } } }, async () => ({}))
    app.post('/more', { schema: { body: Order, callbacks: { paid: otherPaid, 'a name/not a component\'s': unnamed } } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    const { paths } = document
    t.same(paths['/orders'].post.callbacks, { paid: { $ref: '#/components/callbacks/paid_2' }, shipped: { $ref: '#/components/callbacks/shipped' } }, `${openapi}: $refs, the app's own name kept`)
    t.same(paths['/refunds'].post.callbacks, paths['/orders'].post.callbacks)
    t.same(paths['/other'].post.callbacks.paid, { $ref: '#/components/callbacks/paid_3' })
    t.same(Object.keys(paths['/other'].post.callbacks['once only']), [`${KEY}/unnamed`], 'used once: inline, as without the option')
    t.same(paths['/more'].post.callbacks, { paid: { $ref: '#/components/callbacks/paid_3' }, 'a name/not a component\'s': { $ref: '#/components/callbacks/a_name_not_a_component_s' } })
    t.same(Object.keys(document.components.callbacks), ['paid', 'paid_2', 'shipped', 'paid_3', 'a_name_not_a_component_s'], 'the app\'s component first, then in the order of first use, each name unique and valid')
    const operation = document.components.callbacks.paid_2[`${KEY}/paid`].post
    t.equal(operation.operationId, 'post_orders_paid_post', 'the operationId of the first route that documents it')
    t.same(operation.requestBody.content['application/json'].schema.properties.amount, { $ref: '#/components/schemas/def-0' })
    t.same(await validationErrors(document), [], openapi)

    // sending is per route, as before: each route's key is its own
    const keys = []
    for (const url of ['/orders', '/refunds']) {
      const response = await app.inject({ method: 'POST', url, payload: { callback_url: 'http://127.0.0.1:9' } })
      keys.push(response.json().target.key)
    }
    t.same(keys, ['post_orders_paid_post', 'post_refunds_paid_post'])
    await app.close()
  }
})

test('document.sharedCallbacks shares only what each route documents the same', async (t) => {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { document: { sharedCallbacks: true } } })
  app.addSchema({ $id: 'Amount', type: 'integer' })
  app.addSchema({ $id: 'Tenant', type: 'object', properties: { tenant: { type: 'string' } } })
  // each route resolves a parameter container's $ref against its own shared schemas
  const byRef = callbackRouter().post(KEY, { name: 'byRef', schema: { headers: { $ref: 'Tenant#' } } })
  const nestedByRef = callbackRouter().post(KEY, { name: 'nestedByRef', schema: { body: Order }, callbacks: [byRef] })
  // hidden, so never described: its raw map is never read
  const hiddenRaw = callbackRouter().post(KEY, { name: 'hiddenRaw', hide: true, callbacks: { raw: { [KEY]: { post: {} } } } as never })
  const nestedHiddenRaw = callbackRouter().post(KEY, { name: 'nestedHiddenRaw', schema: { body: Order }, callbacks: [hiddenRaw] })
  // a name that holds a raw map's operations too
  app.routeCallbacks([shipped])
  const raw = { shipped: { [`${KEY}/raw`]: { post: {} } } }
  for (const url of ['/a', '/b']) {
    app.post(url, { schema: { body: Order, callbacks: [byRef, nestedByRef, nestedHiddenRaw, paid] } }, async () => ({}))
    app.post(`${url}/raw`, { schema: { body: Order, callbacks: raw } }, async () => ({}))
  }
  // a route @fastify/swagger hides is not in the document: what it would share, another route has inline
  app.post('/hidden', { schema: { hide: true, body: Order, callbacks: [paid] } }, async () => ({}))
  const unnamed = callbackRouter().post(`${KEY}/unnamed`)
  app.post('/c', { schema: { body: Order, callbacks: { paid: [paid, unnamed] } } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as any
  const callbacks = (url: string) => document.paths[url].post.callbacks
  t.same(Object.keys(callbacks('/a').byRef), [KEY], 'inline')
  t.same(Object.keys(callbacks('/a').nestedByRef), [KEY], 'inline')
  t.same(Object.keys(callbacks('/a').nestedHiddenRaw), [KEY], 'inline')
  t.same(callbacks('/a').paid, { $ref: '#/components/callbacks/paid' })
  t.same(Object.keys(callbacks('/a/raw').shipped), [`${KEY}/raw`, `${KEY}/shipped`], 'a name with raw operations: inline')
  t.same(Object.keys(callbacks('/c').paid), [`${KEY}/paid`, `${KEY}/unnamed`], 'another set of definitions under the name: inline, used once')
  t.same(callbacks('/a').shipped, { $ref: '#/components/callbacks/shipped' }, 'the context\'s callbacks are shared too')
  t.same(Object.keys(document.components.callbacks), ['shipped', 'paid'])
  t.same(await validationErrors(document), [])
  await app.close()
})

test('without document.sharedCallbacks, each route has its callbacks inline', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  app.addSchema({ $id: 'Amount', type: 'integer' })
  app.post('/a', { schema: { body: Order, callbacks: [paid] } }, async () => ({}))
  app.post('/b', { schema: { body: Order, callbacks: [paid] } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as any
  t.same(Object.keys(document.paths['/b'].post.callbacks.paid), [`${KEY}/paid`])
  t.equal(document.components.callbacks, undefined)
  await app.close()
})

test('a 3.0 document that drops its webhooks keeps the schemas its shared Callback Objects use', async (t) => {
  const app = await appWith({ openapi: '3.0.3', pluginOptions: { document: { sharedCallbacks: true } } })
  app.addSchema({ $id: 'Amount', type: 'integer' })
  app.webhooks.post('amount', { schema: { body: Type.Object({ amount: Type.Ref('Amount') }) } })
  app.post('/a', { schema: { body: Order, callbacks: [paid] } }, async () => ({}))
  app.post('/b', { schema: { body: Order, callbacks: [paid] } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as any
  t.same(Object.keys(document.components.schemas), ['def-0'])
  t.same(await validationErrors(document), [])
  await app.close()
})
