import { test } from 'tap'
import type { RouteOptions } from 'fastify'
import { callbackRouter } from '../lib/index.js'
import { createRegistry } from '../lib/document/registry.js'
import { sentHeaders } from '../lib/document/signature.js'
import { documentRoute } from '../lib/document/route-hook.js'
import { createWebhooks } from '../lib/document/webhooks.js'
import { appWith } from './helpers.js'
import type { Json } from './helpers.js'

// The key of a callback or webhook is its operationId in the document: what the delivery side stores and looks up.
const query = { type: 'object', properties: { callback_url: { type: 'string' } } }
const router = callbackRouter()
const definitions = [
  router.post('{$request.query.callback_url}/a', { name: 'event' }),
  // 'event!' and 'event' make the same generated operationId
  router.post('{$request.query.callback_url}/b', { name: 'event!' }),
  router.put('{$request.query.callback_url}/a', { name: 'event' })
]
// an operationId given by the app is the key as it is
const chosen = callbackRouter().post('{$request.query.callback_url}/c', { name: 'named', operationId: 'chosenId' })
const routes = (): RouteOptions[] => [
  { method: 'POST', url: '/one', schema: { querystring: query, callbacks: [...definitions, chosen] }, handler: async () => ({}) },
  { method: 'POST', url: '/two', schema: { querystring: query, callbacks: definitions }, handler: async () => ({}) },
  // '/one!' makes the same generated operationIds as '/one'
  { method: 'POST', url: '/one!', schema: { querystring: query, callbacks: definitions }, handler: async () => ({}) }
]
const webhooks: Array<[method: 'post' | 'put', name: string]> = [['post', 'invoice.paid'], ['post', 'invoice-paid'], ['put', 'invoice.paid']]

/** The keys one process gives, from the document side alone. */
function keysOfOneProcess () {
  const registry = createRegistry(sentHeaders('never', false))
  const callbacks = routes().map(routeOptions => documentRoute({ routeOptions, url: routeOptions.url, getSchema: () => undefined, inherited: [] }, registry)!.callbacks)
  const declared = createWebhooks(registry, () => {})
  for (const [method, name] of webhooks) declared.router[method](name)
  return { callbacks, webhooks: declared.declared() }
}

test('every callback of a route and every webhook has one key: its operationId in the document, unique and the same in every process', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  for (const route of routes()) app.route(route)
  for (const [method, name] of webhooks) app.webhooks[method](name)
  await app.ready()
  const document = app.swagger() as Json
  await app.close()

  const first = keysOfOneProcess()
  t.same(keysOfOneProcess(), first, 'the same app code gives the same keys')
  const all = [...first.callbacks.flat().map(({ key }) => key), ...first.webhooks.map(({ key }) => key)]
  t.equal(new Set(all).size, all.length, 'keys are unique')
  t.equal(all.length, definitions.length * 3 + 1 + webhooks.length)
  for (const [index, path] of ['/one', '/two', '/one!'].entries()) {
    for (const callback of first.callbacks[index]!) {
      const operation = document.paths[path].post.callbacks[callback.name][callback.template.key][callback.definition.method.toLowerCase()]
      t.equal(callback.key, operation.operationId, `${path} ${callback.name} ${callback.definition.method}`)
    }
  }
  const url = '_request_query_callback_url'
  t.same(first.callbacks[0]!.map(({ key }) => key), [`post_one_event_post${url}_a`, `post_one_event_post${url}_b`, 'post_one_event_put', 'chosenId'])
  t.same(first.callbacks[2]!.map(({ key }) => key), [`post_one_event_post${url}_a_2`, `post_one_event_post${url}_b_2`, 'post_one_event_put_2'])
  for (const { key, definition } of first.webhooks) {
    t.equal(key, document.webhooks[definition.name][definition.method.toLowerCase()].operationId, `${definition.method} ${definition.name}`)
  }
  t.same(first.webhooks.map(({ key }) => key), ['webhook_invoice_paid_post', 'webhook_invoice_paid_post_2', 'webhook_invoice_paid_put'])
})
