import { test } from 'tap'
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import { startReceiver } from './receivers.js'

const Body = Type.Object({ id: Type.String(), callback_url: Type.String() })
const outer = callbackRouter()
const audited = outer.post('{$request.body#/callback_url}/audit', { name: 'audited' })
const inner = callbackRouter()
const invoiced = inner.post('{$request.body#/callback_url}/invoices/{$request.body#/id}', { name: 'invoiced', schema: { body: Type.Object({ id: Type.String() }) } })
const own = callbackRouter().post('{$request.body#/callback_url}/own', { name: 'own' })

async function app () {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  await app.register(async (api) => {
    api.routeCallbacks(outer.routes)
    await api.register(async (invoices) => {
      invoices.routeCallbacks({ invoiced })
      invoices.post('/', { schema: { body: Body, callbacks: [own] } }, async (request) => ({
        audited: api.callbacks.target(audited, request),
        invoiced: api.callbacks.target(invoiced, request)
      }))
      invoices.post('/opted-out', { schema: { body: Body, callbacks: false } }, async () => ({}))
    }, { prefix: '/invoices' })
    api.post('/audit', { schema: { body: Body } }, async (request) => api.callbacks.target(audited, request))
  }, { prefix: '/api' })
  // a sibling context: none of the callbacks above
  app.post('/plain', { schema: { body: Body } }, async () => ({}))
  await app.ready()
  return app
}

test('a context\'s callbacks: every route of it and of the contexts it registers, outer before inner before the route\'s own', async (t) => {
  const server = await app()
  t.teardown(() => server.close())
  const document = server.swagger() as any
  t.same(Object.keys(document.paths['/api/invoices/'].post.callbacks), ['audited', 'invoiced', 'own'])
  t.same(Object.keys(document.paths['/api/audit'].post.callbacks), ['audited'], 'an outer route gets only the outer context\'s')
  t.equal(document.paths['/api/invoices/opted-out'].post.callbacks, undefined, 'callbacks: false opts out')
  t.equal(document.paths['/plain'].post.callbacks, undefined, 'a sibling context gets none')
  t.same(Object.keys(document.paths['/api/invoices/'].post.callbacks.invoiced), ['{$request.body#/callback_url}/invoices/{$request.body#/id}'])
  const operationIds = [
    document.paths['/api/invoices/'].post.callbacks.audited['{$request.body#/callback_url}/audit'].post.operationId,
    document.paths['/api/audit'].post.callbacks.audited['{$request.body#/callback_url}/audit'].post.operationId
  ]
  t.equal(new Set(operationIds).size, 2, 'one definition on two routes: two operationIds')
  t.same(await validationErrors(document), [])
})

test('a context\'s callback is sent like the route\'s own: target() resolves it, keyed by its operationId', async (t) => {
  const server = await app()
  t.teardown(() => server.close())
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const response = await server.inject({ method: 'POST', url: '/api/invoices/', payload: { id: 'inv-1', callback_url: receiver.origin } })
  const { audited: auditedTarget, invoiced: invoicedTarget } = response.json()
  t.match(auditedTarget, { ok: true, target: { key: 'post_api_invoices_audited_post', url: `${receiver.origin}/audit` } })
  t.match(invoicedTarget, { ok: true, target: { key: 'post_api_invoices_invoiced_post', url: `${receiver.origin}/invoices/inv-1` } })
  const result = await server.callbacks.send(invoiced, invoicedTarget.target, { id: 'inv-1' })
  t.match(result, { outcome: 'delivered', statusCode: 200 })
  t.equal(receiver.received[0]!.url, '/invoices/inv-1')
  const outerRoute = await server.inject({ method: 'POST', url: '/api/audit', payload: { id: 'inv-2', callback_url: receiver.origin } })
  t.match(outerRoute.json(), { ok: true, target: { key: 'post_api_audit_audited_post' } })
})

test('an expression a route of the context cannot satisfy fails at startup, naming that route and the callback', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  app.register(async (api) => {
    api.routeCallbacks(outer.routes)
    api.post('/declares', { schema: { body: Body } }, async () => ({}))
    api.get('/no-body', async () => ({}))
  }, { prefix: '/api' })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED', message: /^route GET \/api\/no-body, callback "audited"/ })
})

test('routeCallbacks() refuses what is not a definition, with a coded error naming the context', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  const cases: Array<[unknown, RegExp]> = [
    [{ raw: { '{$url}': { post: {} } } }, /context of prefix "\/v1": callbacks must be router\.routes, a callback definition or a record of them/],
    [['not a definition'], /callbacks\[0\] is not a callback definition/],
    [callbackRouter().post('{$url}'), /callbacks \(POST \{\$url\}\) has no name/],
    [app.webhooks.post('ping'), /callbacks is a webhook/]
  ]
  await app.register(async (v1) => {
    for (const [value, message] of cases) {
      t.throws(() => v1.routeCallbacks(value as any), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message })
    }
  }, { prefix: '/v1' })
  t.throws(() => app.routeCallbacks('x' as any), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message: /context of prefix "\/"/ })
  await app.ready()
  await app.close()
})

test('a GET route of the context documents them; its HEAD twin documents none, even when @fastify/swagger shows it', async (t) => {
  const byQuery = callbackRouter().post('{$request.query.callback_url}', { name: 'by_query' })
  const app = await appWith({ openapi: '3.1.0', swaggerOptions: { exposeHeadRoutes: true } })
  await app.register(async (api) => {
    api.routeCallbacks({ by_query: byQuery })
    api.get('/search', { schema: { querystring: Type.Object({ callback_url: Type.String() }) } }, async () => ({}))
  }, { prefix: '/api' })
  await app.ready()
  const document = app.swagger() as any
  t.same(Object.keys(document.paths['/api/search'].get.callbacks), ['by_query'])
  t.ok(document.paths['/api/search'].head, 'the HEAD twin is documented')
  t.equal(document.paths['/api/search'].head.callbacks, undefined)
  t.same(await validationErrors(document), [])
  await app.close()
})

test('register(plugin, { callbacks }): the new context\'s callbacks, as FastAPI\'s include_router(router, callbacks=...)', async (t) => {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  await app.register(async (api) => {
    await api.register(async (invoices) => {
      invoices.routeCallbacks({ invoiced })
      invoices.post('/', { schema: { body: Body, callbacks: [own] } }, async (request) => ({
        audited: invoices.callbacks.target(audited, request),
        invoiced: invoices.callbacks.target(invoiced, request)
      }))
    }, { prefix: '/invoices', callbacks: callbackRouter().post('{$request.body#/callback_url}/extra', { name: 'extra' }) })
    api.post('/audit', { schema: { body: Body } }, async () => ({}))
  }, { prefix: '/api', callbacks: outer.routes })
  await app.ready()
  t.teardown(() => app.close())
  const document = app.swagger() as any
  t.same(Object.keys(document.paths['/api/invoices/'].post.callbacks), ['audited', 'extra', 'invoiced', 'own'], 'outer register option, inner register option, routeCallbacks(), the route\'s own')
  t.same(Object.keys(document.paths['/api/audit'].post.callbacks), ['audited'])
  t.same(await validationErrors(document), [])
  const response = await app.inject({ method: 'POST', url: '/api/invoices/', payload: { id: 'inv-1', callback_url: 'http://127.0.0.1:9' } })
  t.match(response.json(), {
    audited: { ok: true, target: { key: 'post_api_invoices_audited_post', url: 'http://127.0.0.1:9/audit' } },
    invoiced: { ok: true, target: { key: 'post_api_invoices_invoiced_post', url: 'http://127.0.0.1:9/invoices/inv-1' } }
  })
})

test('a register() option `callbacks` that holds no definitions is the plugin\'s own; a fastify-plugin plugin makes no context, so its options give none', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  const seen: unknown[] = []
  const ownOption = { onDone: () => {} }
  await app.register(async (child, options: { callbacks: unknown }) => {
    seen.push(options.callbacks)
    child.post('/plugin-own', { schema: { body: Body } }, async () => ({}))
  }, { callbacks: ownOption })
  await app.register(fp(async (parent, options: { callbacks: unknown }) => {
    seen.push(options.callbacks)
  }), { callbacks: outer.routes })
  app.post('/root', { schema: { body: Body } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as any
  t.equal(seen[0], ownOption, 'left to the plugin, as it was given')
  t.same(seen[1], outer.routes)
  t.equal(document.paths['/plugin-own'].post.callbacks, undefined)
  t.equal(document.paths['/root'].post.callbacks, undefined, 'a fastify-plugin plugin\'s options apply to no context')
  await app.close()
})

test('a register() option `callbacks` with a definition and something else is refused at startup, naming the context', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  app.register(async () => {}, { prefix: '/v2', callbacks: { audited: [audited, 'not a definition'] } })
  await t.rejects(async () => { await app.ready() }, {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: /^the register\(\) option `callbacks` in the context of prefix "\/v2": callbacks\.audited\[1\] is not a callback definition/
  })
})
