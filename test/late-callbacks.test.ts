import { test } from 'tap'
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import { startReceiver } from './receivers.js'

// onRoute hooks added after the plugin's own (in a child context, or by a plugin registered later) run after it:
// the callbacks they set are processed all the same, once every hook has run
const Body = Type.Object({ id: Type.String(), callback_url: Type.String() })
const router = callbackRouter()
const invoiced = router.post('{$request.body#/callback_url}/invoices/{$request.body#/id}', { name: 'invoiced', schema: { body: Type.Object({ id: Type.String() }) } })
const audited = callbackRouter().post('{$request.body#/callback_url}/audit', { name: 'audited' })
const own = callbackRouter().post('{$request.body#/callback_url}/own', { name: 'own' })

async function loopback () {
  return await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
}

test('a child context\'s onRoute hook that adds callbacks: documented, resolved by target() and sent', async (t) => {
  const app = await loopback()
  await app.register(async (invoices) => {
    invoices.routeCallbacks({ audited })
    invoices.addHook('onRoute', (routeOptions) => {
      routeOptions.schema = { ...routeOptions.schema, callbacks: [...routeOptions.schema?.callbacks as [] ?? [], ...router.routes] }
    })
    invoices.post('/', { schema: { body: Body, callbacks: [own] } }, async (request) => ({
      invoiced: invoices.callbacks.target(invoiced, request),
      audited: invoices.callbacks.target(audited, request)
    }))
  }, { prefix: '/invoices' })
  await app.ready()
  t.teardown(() => app.close())
  const document = app.swagger() as any
  // the context's callbacks, then the route's own (as the hook left them)
  t.same(Object.keys(document.paths['/invoices/'].post.callbacks), ['audited', 'own', 'invoiced'])
  t.same(await validationErrors(document), [])

  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const response = await app.inject({ method: 'POST', url: '/invoices/', payload: { id: 'inv-1', callback_url: receiver.origin } })
  const targets = response.json()
  t.match(targets.invoiced, { ok: true, target: { key: 'post_invoices_invoiced_post', url: `${receiver.origin}/invoices/inv-1` } })
  t.match(targets.audited, { ok: true, target: { url: `${receiver.origin}/audit` } })
  t.match(await app.callbacks.send(invoiced, targets.invoiced.target, { id: 'inv-1' }), { outcome: 'delivered', statusCode: 200 })
  t.same(receiver.received.map(({ url }) => url), ['/invoices/inv-1'])
})

test('a plugin registered after this one, in the same context, whose onRoute hook replaces or removes callbacks', async (t) => {
  const app = await loopback()
  await app.register(fp(async (instance) => {
    instance.addHook('onRoute', (routeOptions) => {
      if (routeOptions.url === '/replaced') routeOptions.schema!.callbacks = { invoiced }
      if (routeOptions.url === '/opted-out') routeOptions.schema!.callbacks = false
    })
  }))
  app.routeCallbacks({ audited })
  app.post('/replaced', { schema: { body: Body, callbacks: [own] } }, async (request) => app.callbacks.target(invoiced, request))
  app.post('/opted-out', { schema: { body: Body, callbacks: [own] } }, async (request) => app.callbacks.target(own, request))
  await app.ready()
  t.teardown(() => app.close())
  const document = app.swagger() as any
  t.same(Object.keys(document.paths['/replaced'].post.callbacks), ['audited', 'invoiced'], 'the own callbacks the hook left')
  t.equal(document.paths['/opted-out'].post.callbacks, undefined, 'callbacks: false, set by the hook, opts out of the context\'s too')
  t.same(await validationErrors(document), [])
  const payload = { id: 'inv-2', callback_url: 'http://127.0.0.1:9' }
  t.match((await app.inject({ method: 'POST', url: '/replaced', payload })).json(), { ok: true, target: { url: 'http://127.0.0.1:9/invoices/inv-2' } })
  const optedOut = await app.inject({ method: 'POST', url: '/opted-out', payload })
  t.equal(optedOut.json().code, 'FST_OPENAPI_CALLBACKS_CALLBACK_NOT_ON_ROUTE', 'the callbacks the hook removed are not the route\'s')
})

test('a callback a later hook adds that the route cannot satisfy fails at ready(), naming that route', async (t) => {
  const app = await loopback()
  app.register(async (child) => {
    child.addHook('onRoute', (routeOptions) => {
      routeOptions.schema = { ...routeOptions.schema, callbacks: router.routes }
    })
    child.post('/declares', { schema: { body: Body } }, async () => ({}))
    child.get('/no-body', async () => ({}))
  }, { prefix: '/child' })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED', message: /^route GET \/child\/no-body, callback "invoiced": runtime expression "\$request\.body#\/callback_url"/ })
})

test('one schema object on two routes of contexts with different callbacks: target() finds each route\'s own', async (t) => {
  const app = await loopback()
  const schema = { body: Body }
  await app.register(async (a) => {
    a.routeCallbacks({ audited })
    a.post('/a', { schema }, async (request) => a.callbacks.target(audited, request))
  })
  await app.register(async (b) => {
    b.routeCallbacks({ own })
    b.post('/b', { schema }, async (request) => b.callbacks.target(own, request))
  })
  await app.ready()
  t.teardown(() => app.close())
  const payload = { id: 'x', callback_url: 'http://127.0.0.1:9' }
  t.match((await app.inject({ method: 'POST', url: '/a', payload })).json(), { ok: true, target: { url: 'http://127.0.0.1:9/audit' } })
  t.match((await app.inject({ method: 'POST', url: '/b', payload })).json(), { ok: true, target: { url: 'http://127.0.0.1:9/own' } })
  t.same(schema, { body: Body }, 'the app\'s object is left as it was')
})

test('a later onRoute hook that gives several routes one schema object: target() still finds each route\'s own callbacks', async (t) => {
  const app = await loopback()
  // a hook of the app's, added after the plugin's: the routes keep this one object as their schema
  const shared = { body: Body }
  app.addHook('onRoute', (routeOptions) => { routeOptions.schema = shared })
  await app.register(async (invoices) => {
    invoices.routeCallbacks({ invoiced })
    invoices.post('/a', async (request) => invoices.callbacks.target(invoiced, request))
    invoices.post('/b', async (request) => invoices.callbacks.target(invoiced, request))
    // the prefix's own route: Fastify adds it as /invoices and /invoices/, with one onRoute call
    invoices.post('/', async (request) => invoices.callbacks.target(invoiced, request))
  }, { prefix: '/invoices' })
  // the same schema object, in a context without callbacks
  app.post('/plain', async (request) => {
    try {
      return app.callbacks.target(invoiced, request)
    } catch (error) {
      return { code: (error as { code: string }).code }
    }
  })
  await app.ready()
  t.teardown(() => app.close())
  const payload = { id: 'x', callback_url: 'http://127.0.0.1:9' }
  const keyOf = async (url: string) => (await app.inject({ method: 'POST', url, payload })).json().target?.key
  t.equal(await keyOf('/invoices/a'), 'post_invoices_a_invoiced_post')
  t.equal(await keyOf('/invoices/b'), 'post_invoices_b_invoiced_post')
  t.equal(await keyOf('/invoices'), 'post_invoices_invoiced_post')
  t.equal(await keyOf('/invoices/'), 'post_invoices_invoiced_post')
  t.same((await app.inject({ method: 'POST', url: '/plain', payload })).json(), { code: 'FST_OPENAPI_CALLBACKS_CALLBACK_NOT_ON_ROUTE' })
})
