import fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import { expect, test } from 'tstyche'
import { callbackRouter } from '../../lib/index.js'
import type { CallbackDefinition, CallbackReference, NestedCallbacks, WebhookDefinition } from '../../lib/index.js'

const Event = Type.Object({ id: Type.String(), paid: Type.Boolean() })
const Ack = Type.Object({ ok: Type.Boolean() })

test('each router call returns its definition, typed from its schemas', () => {
  const router = callbackRouter()
  const notification = router.post('{$callback_url}/invoices/{$request.body.id}', {
    name: 'invoice_notification',
    schema: { body: Event, response: { 200: Ack } }
  })
  expect(notification.schema.body).type.toBe<typeof Event>()
  expect(notification.schema.response[200]).type.toBe<typeof Ack>()
  expect(notification.schema.body.static).type.toBe<{ id: string, paid: boolean }>()
  expect(notification).type.toBeAssignableTo<CallbackDefinition>()
  expect(router.routes).type.toBe<readonly CallbackDefinition[]>()

  expect(router.route).type.toBeCallableWith({ method: 'post', url: '{$url}' })
  expect(router.route).type.not.toBeCallableWith({ method: 'FETCH', url: '{$url}' })
  expect(router.post).type.not.toBeCallableWith('{$url}', { name: 'x', responses: {} })
  expect(router.post).type.not.toBeCallableWith('{$url}', { tags: 'one' })
})

test('a route schema\'s callbacks accepts every documented form, and nothing else', () => {
  const app = fastify()
  const router = callbackRouter()
  const definition = router.post('{$url}', { name: 'sent' })
  const handler = async (): Promise<object> => ({})
  expect(app.post).type.toBeCallableWith('/a', { schema: { callbacks: router.routes } }, handler)
  expect(app.post).type.toBeCallableWith('/b', { schema: { callbacks: definition } }, handler)
  expect(app.post).type.toBeCallableWith('/c', { schema: { callbacks: { sent: definition, more: [definition] } } }, handler)
  expect(app.post).type.toBeCallableWith('/d', { schema: { callbacks: { raw: { '{$url}': { post: { responses: {} } } } } } }, handler)
  expect(app.post).type.not.toBeCallableWith('/e', { schema: { callbacks: 'sent' } }, handler)
})

test('a context\'s callbacks: routeCallbacks takes definitions, not raw maps; a route opts out with false', () => {
  const app = fastify()
  const router = callbackRouter()
  const definition = router.post('{$url}', { name: 'sent' })
  const handler = async (): Promise<object> => ({})
  expect(app.routeCallbacks).type.toBeCallableWith(router.routes)
  expect(app.routeCallbacks).type.toBeCallableWith(definition)
  expect(app.routeCallbacks).type.toBeCallableWith({ sent: definition, more: [definition] })
  expect(app.routeCallbacks).type.not.toBeCallableWith({ raw: { '{$url}': { post: { responses: {} } } } })
  expect(app.routeCallbacks).type.not.toBeCallableWith('sent')
  expect(app.post).type.toBeCallableWith('/f', { schema: { callbacks: false } }, handler)
  expect(app.post).type.not.toBeCallableWith('/g', { schema: { callbacks: true } }, handler)
})

test('definition options: hide, externalDocs, servers, x- extensions and nested callbacks; a typo is no option', () => {
  const router = callbackRouter()
  const nested = router.post('{$url}', { name: 'nested' })
  expect(router.post).type.toBeCallableWith('{$url}', {
    hide: true,
    externalDocs: { url: 'https://docs.test' },
    servers: [{ url: 'https://a.test' }],
    'x-internal': true,
    callbacks: [nested]
  })
  expect(router.post).type.toBeCallableWith('{$url}', { callbacks: { nested } })
  expect(router.post).type.not.toBeCallableWith('{$url}', { hide: 'yes' })
  expect(router.post).type.not.toBeCallableWith('{$url}', { externalDocs: { description: 'no url' } })
  expect(router.post).type.not.toBeCallableWith('{$url}', { externalDoc: { url: 'https://docs.test' } })
  expect(router.route).type.toBeCallableWith({ method: 'QUERY', url: '{$url}' })
  expect(nested.hide).type.toBe<boolean>()
})

test('webhooks are declared on the instance, typed like callbacks', () => {
  const app = fastify()
  const subscription = app.webhooks.post('new-subscription', { schema: { body: Event } })
  expect(subscription).type.toBeAssignableTo<WebhookDefinition>()
  expect(subscription.schema.body).type.toBe<typeof Event>()
  expect(app.webhooks.routes).type.toBe<readonly WebhookDefinition[]>()
  expect(app.webhooks.route).type.toBeCallableWith({ method: 'PUT', name: 'changed' })
  expect(app.webhooks.route).type.not.toBeCallableWith({ method: 'PUT' })
  const receipt = callbackRouter().post('{$url}', { name: 'receipt' })
  expect(app.webhooks.post).type.toBeCallableWith('subscribed', { callbacks: [receipt] })
  expect(app.webhooks.post).type.toBeCallableWith('subscribed', { callbacks: { receipt } })
  expect(app.webhooks.route).type.toBeCallableWith({ method: 'PUT', name: 'changed', callbacks: receipt })
  expect(app.webhooks.post).type.not.toBeCallableWith('subscribed', { callbacks: [subscription] })
  expect(subscription.callbacks).type.toBe<NestedCallbacks | undefined>()
})

test('a route\'s callbacks may be Reference Objects to components.callbacks', () => {
  const app = fastify()
  app.post('/orders', { schema: { callbacks: { events: { $ref: '#/components/callbacks/Events', summary: 'Events' } } } }, async () => ({}))
  expect({ $ref: '#/components/callbacks/Events', description: 'Events' }).type.toBeAssignableTo<CallbackReference>()
  expect({ $ref: '#/components/callbacks/Events', summary: 1 }).type.not.toBeAssignableTo<CallbackReference>()
})

test('register options may carry callbacks for the new context, beside a plugin\'s own options', () => {
  const events = callbackRouter()
  events.post('{$request.body#/callback_url}', { name: 'done' })
  expect(fastify().register).type.toBeCallableWith(async () => {}, { prefix: '/invoices', callbacks: events.routes })
})
