// Every request the plugin sends conforms to the operation it documents, as an independent validator reads it
import { test } from 'tap'
import type { Test } from 'tap'
import { Type } from '@sinclair/typebox'
import { buildApp } from '../example/app.js'
import { callbackRouter } from '../lib/index.js'
import type { DeliveryOptions } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import type { Json } from './helpers.js'
import { startReceiver } from './receivers.js'
import type { Receiver } from './receivers.js'
import { requestFaults } from './request-validator.js'
import type { OperationPath } from './request-validator.js'

const secret = (byte: number): string => `whsec_${Buffer.alloc(32, byte).toString('base64')}`
const INVOICE_KEY = '{$request.query.callback_url}/invoices/{$request.body#/id}'
const ORDER_KEY = '{$request.query.callback_url}/orders/{$request.body#/id}'

async function receiver (t: Test): Promise<Receiver> {
  const started = await startReceiver()
  t.teardown(() => started.close())
  return started
}

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`the example's callback${openapi === '3.1.0' ? ' and webhook' : ''} conform to its ${openapi} document`, async (t) => {
    const target = await receiver(t)
    const app = await buildApp({ openapi, delivery: { secret: secret(1), allowHttp: true, allow: ['127.0.0.1'] } })
    t.teardown(() => app.close())
    const created = await app.inject({ method: 'POST', url: `/invoices/?callback_url=${target.origin}`, payload: { id: 'inv-1', customer: 'Ada', total: 12.5 } })
    t.equal(created.statusCode, 200)
    const paid = await app.inject({ method: 'POST', url: '/invoices/inv-1/pay' })
    t.match(paid.json(), { callback: /^delivered/ })
    const document = app.swagger() as Json
    t.same(await validationErrors(document), [])
    t.same(await requestFaults(document, ['paths', '/invoices/', 'post', 'callbacks', 'invoice_notification', INVOICE_KEY, 'post'], target.received[0]!), [])
    t.equal(target.received[0]!.url, '/invoices/inv-1')
    if (openapi === '3.0.3') return
    const [newSubscription] = app.webhooks.routes
    await app.callbacks.send(newSubscription!, `${target.origin}/subscriptions`, { username: 'ada', monthly_fee: 5, start_date: '2026-12-01T00:00:00Z' } as never)
    t.same(await requestFaults(document, ['webhooks', 'new-subscription', 'post'], target.received[1]!), [])
  })
}

const Order = Type.Object({ id: Type.String(), total: Type.Number(), note: Type.Union([Type.String(), Type.Null()]) })
const Headers = Type.Object({ 'X-Request-Id': Type.String({ minLength: 1 }), 'x-attempt': Type.Optional(Type.Integer({ minimum: 1 })) })
const Query = Type.Object({ tenant: Type.String(), tag: Type.Optional(Type.Array(Type.String())), verbose: Type.Optional(Type.Boolean()) })

/** An app whose callback and webhook declare header, query and body parameters, and that sends them. */
async function orderApp (openapi: string, delivery: DeliveryOptions) {
  const app = await appWith({ openapi, pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], headers: { 'x-api-version': 2 }, ...delivery } } })
  const router = callbackRouter()
  const shipped = router.put('{$callback_url}/orders/{$request.body.id}', { name: 'order_shipped', security: [], schema: { headers: Headers, querystring: Query, body: Order } })
  const event = app.webhooks.post('order-event', { security: [], schema: { headers: Headers, querystring: Query, body: Type.Ref('Order'), consumes: ['application/cloudevents+json'] } })
  app.addSchema({ ...Order, $id: 'Order' })
  app.post('/orders', { schema: { querystring: Type.Object({ callback_url: Type.String() }), body: Type.Object({ id: Type.String() }), callbacks: router.routes } }, async (request) => {
    const resolved = app.callbacks.target(shipped, request)
    if (!resolved.ok) throw new Error('no callback_url')
    const { id } = request.body as { id: string }
    await app.callbacks.send(shipped, resolved.target, { id, total: 9.5, note: null }, { headers: { 'X-Request-Id': 'r-1', 'x-attempt': 2 }, query: { tenant: 'acme', tag: ['a b', 'c'], verbose: true } })
    await app.callbacks.send(shipped, resolved.target, { id, total: 1, note: 'only the required ones' }, { headers: { 'X-Request-Id': 'r-2' }, query: { tenant: 'acme' } })
    return {}
  })
  return { app, event }
}

const deliveries: Array<[string, DeliveryOptions]> = [
  ['signed with two secrets while rotating', { secret: [secret(1), secret(2)] }],
  ['signed for one subscriber by secretFor, unsigned for another', { secretFor: ({ subscriber }) => subscriber === 'acme' ? secret(3) : undefined }],
  ['unsigned', {}]
]

for (const openapi of ['3.0.3', '3.1.0']) {
  for (const [what, delivery] of deliveries) {
    test(`header, query and body parameters conform to the ${openapi} document, ${what}`, async (t) => {
      const target = await receiver(t)
      const { app, event } = await orderApp(openapi, delivery)
      t.teardown(() => app.close())
      const created = await app.inject({ method: 'POST', url: `/orders?callback_url=${target.origin}`, payload: { id: 'o-1' } })
      t.equal(created.statusCode, 200)
      const document = app.swagger() as Json
      t.same(await validationErrors(document), [])
      const callback: OperationPath = ['paths', '/orders', 'post', 'callbacks', 'order_shipped', ORDER_KEY, 'put']
      t.equal(target.received.length, 2, 'both callbacks arrived')
      for (const request of target.received) t.same(await requestFaults(document, callback, request), [], `${request.method} ${request.url}`)
      if (openapi === '3.0.3') return
      for (const subscriber of ['acme', 'other']) {
        await app.callbacks.send(event, `${target.origin}/events`, { id: 'o-1', total: 3, note: null }, { headers: { 'X-Request-Id': 'w' }, query: { tenant: 't' }, subscriber })
      }
      for (const request of target.received.slice(2)) t.same(await requestFaults(document, ['webhooks', 'order-event', 'post'], request), [], `webhook to ${request.url}`)
      t.equal(target.received.length, 4)
    })
  }
}

test('the validator finds what the document does not promise', async (t) => {
  const target = await receiver(t)
  const { app } = await orderApp('3.1.0', { secret: secret(1) })
  t.teardown(() => app.close())
  await app.inject({ method: 'POST', url: `/orders?callback_url=${target.origin}`, payload: { id: 'o-1' } })
  const document = app.swagger() as Json
  const callback: OperationPath = ['paths', '/orders', 'post', 'callbacks', 'order_shipped', ORDER_KEY, 'put']
  const sent = target.received[0]!
  const without = (name: string): Json => Object.fromEntries(Object.entries(sent.headers).filter(([key]) => key !== name))
  const cases: Array<[string, Partial<typeof sent>, string[]]> = [
    ['without the signature', { headers: without('webhook-signature') }, ['required header parameter "webhook-signature" is missing']],
    ['without the message id', { headers: without('webhook-id') }, ['required header parameter "webhook-id" is missing']],
    ['with a timestamp that is not Unix seconds', { headers: { ...sent.headers, 'webhook-timestamp': 'now' } }, ['header parameter "webhook-timestamp" must be integer']],
    ['with a signature of another scheme', { headers: { ...sent.headers, 'webhook-signature': 'v1a,abc' } }, ['header parameter "webhook-signature" must match pattern "^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$"']],
    ['without a declared required header', { headers: without('x-request-id') }, ['required header parameter "X-Request-Id" is missing']],
    ['with an undeclared query parameter', { url: `${sent.url}&page=2` }, ['query parameter "page" is not documented']],
    ['with a query parameter of the wrong type', { url: sent.url.replace('verbose=true', 'verbose=yes') }, ['query parameter "verbose" must be boolean']],
    ['with another method', { method: 'POST' }, ['method POST is not the documented PUT']],
    ['with another media type', { headers: { ...sent.headers, 'content-type': 'text/plain' } }, ['the body\'s media type "text/plain" is not documented']],
    ['with a body that breaks the schema', { body: '{"id":"o-1","total":"9.5","note":null}' }, ['body/total must be number']]
  ]
  for (const [what, change, faults] of cases) t.same(await requestFaults(document, callback, { ...sent, ...change }), faults, what)
  t.same(await requestFaults(document, callback, sent), [], 'the request as sent conforms')
})
