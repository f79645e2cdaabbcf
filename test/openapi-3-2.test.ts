import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import { startReceiver } from './receivers.js'

const Search = Type.Object({ callback_url: Type.String(), term: Type.String() })
const results = callbackRouter().route({ method: 'QUERY', url: '{$request.body#/callback_url}/results', name: 'results', schema: { body: Type.Object({ term: Type.String() }) } })
const notify = callbackRouter().post('{$request.body#/callback_url}/notify', { name: 'notify', callbacks: [callbackRouter().route({ method: 'query', url: '{$url}', name: 'deeper' })] })

async function app (openapi: string) {
  const app = await appWith({ openapi, pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  app.addHttpMethod('PROPFIND', { hasBody: true })
  app.route({ method: 'QUERY', url: '/search', schema: { body: Search, callbacks: [results] }, handler: async (request) => app.callbacks.target(results, request) })
  app.route({ method: 'PROPFIND', url: '/props', schema: { body: Search, callbacks: [notify] }, handler: async () => ({}) })
  app.webhooks.route({ method: 'QUERY', name: 'lookup', schema: { body: Type.Object({ term: Type.String() }) } })
  return app
}

test('OpenAPI 3.2.0: QUERY callbacks and webhooks, routes under additionalOperations completed, valid against the 3.2 schema', async (t) => {
  const server = await app('3.2.0')
  await server.ready()
  t.teardown(() => server.close())
  const document = server.swagger() as any
  t.equal(document.openapi, '3.2.0')
  const queried = document.paths['/search'].query.callbacks.results['{$request.body#/callback_url}/results'].query
  t.equal(queried.operationId, 'query_search_results_query')
  const additional = document.paths['/props'].additionalOperations.PROPFIND.callbacks.notify['{$request.body#/callback_url}/notify'].post
  t.equal(additional.summary, 'Notify', 'the operation is complete')
  t.same(Object.keys(additional.callbacks.deeper['{$url}']), ['query'])
  t.notMatch(JSON.stringify(document), /x-fastify-openapi-callbacks|callback-\d/, 'no carrier left')
  t.same(Object.keys(document.webhooks.lookup), ['query'])
  t.same(await validationErrors(document), [])
})

test('a QUERY callback is sent with the QUERY method and its body', async (t) => {
  const server = await app('3.2.0')
  await server.ready()
  t.teardown(() => server.close())
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { target } = (await server.inject({ method: 'QUERY' as any, url: '/search', payload: { callback_url: receiver.origin, term: 'x' } })).json()
  t.match(await server.callbacks.send(results, target, { term: 'x' }), { outcome: 'delivered' })
  t.match(receiver.received[0], { method: 'QUERY', url: '/results', body: '{"term":"x"}' })
})

test('before 3.2, a QUERY callback, nested callback or webhook fails at startup with a coded error naming where', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const server = await appWith({ openapi })
    server.route({ method: 'QUERY', url: '/search', schema: { body: Search, callbacks: [results] }, handler: async () => ({}) })
    await t.rejects(async () => { await server.ready() }, {
      code: 'FST_OPENAPI_CALLBACKS_QUERY_NEEDS_3_2',
      message: /^route QUERY \/search, callback "results": QUERY \{\$request\.body#\/callback_url\}\/results uses the QUERY method, which OpenAPI has only since 3\.2\.0/
    }, openapi)
  }
  const nested = await appWith({ openapi: '3.1.0' })
  nested.post('/notify', { schema: { body: Search, callbacks: [notify] } }, async () => ({}))
  await t.rejects(async () => { await nested.ready() }, { code: 'FST_OPENAPI_CALLBACKS_QUERY_NEEDS_3_2', message: /^route POST \/notify, callback "notify", callback "deeper": QUERY \{\$url\}/ })
  const webhook = await appWith({ openapi: '3.1.0' })
  webhook.webhooks.route({ method: 'QUERY', name: 'lookup' })
  await t.rejects(async () => { await webhook.ready() }, { code: 'FST_OPENAPI_CALLBACKS_QUERY_NEEDS_3_2', message: /^webhook QUERY "lookup": this webhook uses the QUERY method/ })
})

test('a raw callbacks map may use query in 3.2', async (t) => {
  const server = await appWith({ openapi: '3.2.0' })
  server.post('/raw', { schema: { callbacks: { raw: { '{$url}': { query: { responses: { 200: { description: 'OK' } } } } } } } }, async () => ({}))
  await server.ready()
  const document = server.swagger() as any
  t.same(document.paths['/raw'].post.callbacks.raw['{$url}'].query.responses, { 200: { description: 'OK' } })
  t.same(await validationErrors(document), [])
  await server.close()
})
