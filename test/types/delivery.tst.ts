import fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { expect, test } from 'tstyche'
import { callbackRouter } from '../../lib/index.js'
import type { CallbackTarget, FanOutResult, FinalOutcome, OutcomeEvent, SendResult, TargetResult, WebhookTarget } from '../../lib/index.js'

const Event = Type.Object({ id: Type.String(), paid: Type.Boolean() })
const Ack = Type.Object({ ok: Type.Boolean() })
const Problem = Type.Object({ error: Type.String() })

const app = fastify()
const router = callbackRouter()
const notification = router.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_notification',
  schema: { body: Event, response: { 200: Ack, 404: Problem } }
})
const untyped = router.post('{$url}', { name: 'untyped' })
const referenced = router.post('{$url}/ref', { name: 'referenced', schema: { body: Type.Ref(Event), response: { '2XX': Type.Ref(Ack), default: Problem } } })
const subscription = app.webhooks.post('new-subscription', { schema: { body: Event } })
declare const target: CallbackTarget
declare const request: FastifyRequest

test('the payload is typed from the body schema: a wrong payload does not compile', () => {
  expect(app.callbacks.send).type.toBeCallableWith(notification, target, { id: 'inv-1', paid: true })
  expect(app.callbacks.send).type.not.toBeCallableWith(notification, target, { id: 'inv-1', paid: 'yes' })
  expect(app.callbacks.send).type.not.toBeCallableWith(notification, target, { id: 'inv-1' })
  expect(app.callbacks.send).type.not.toBeCallableWith(notification, target, undefined)
  expect(app.callbacks.enqueue).type.toBeCallableWith(notification, target, { id: 'inv-1', paid: false })
  expect(app.callbacks.enqueue).type.not.toBeCallableWith(notification, target, { id: 1, paid: false })
  expect(app.callbacks.send).type.toBeCallableWith(referenced, target, { id: 'inv-1', paid: true })
  expect(app.callbacks.send).type.not.toBeCallableWith(referenced, target, { paid: true })
})

test('a definition without a body schema takes any payload', () => {
  expect(app.callbacks.send).type.toBeCallableWith(untyped, target, undefined)
  expect(app.callbacks.send).type.toBeCallableWith(untyped, target, { anything: [1, 2] })
})

test('callbacks go to a resolved target; webhooks to a URL or a webhook target', () => {
  expect(app.callbacks.target(notification, request)).type.toBe<TargetResult>()
  expect(app.callbacks.send).type.not.toBeCallableWith(notification, 'https://receiver.example/hook', { id: 'a', paid: true })
  expect(app.callbacks.send).type.toBeCallableWith(subscription, 'https://receiver.example/hook', { id: 'a', paid: true })
  expect(app.callbacks.send).type.toBeCallableWith(subscription, { kind: 'webhook', key: 'webhook_new_subscription_post', name: 'new-subscription', method: 'POST', url: 'https://receiver.example/hook' }, { id: 'a', paid: true })
  expect(app.callbacks.send).type.not.toBeCallableWith(subscription, { kind: 'webhook', name: 'new-subscription', method: 'POST', url: 'https://receiver.example/hook' }, { id: 'a', paid: true })
  expect(app.callbacks.send).type.not.toBeCallableWith(subscription, target, { id: 'a', paid: true })
  expect(app.callbacks.send).type.not.toBeCallableWith(subscription, 'https://receiver.example/hook', { id: 'a' })
  expect(app.callbacks.target).type.not.toBeCallableWith(subscription, request)
})

test('the result is typed from the 2xx and default response schemas', async () => {
  expect(await app.callbacks.send(notification, target, { id: 'a', paid: true })).type.toBe<SendResult<{ ok: boolean }>>()
  expect(await app.callbacks.send(referenced, target, { id: 'a', paid: true })).type.toBe<SendResult<{ ok: boolean } | { error: string }>>()
  expect(await app.callbacks.send(untyped, target, undefined)).type.toBe<SendResult<unknown>>()
  const result = await app.callbacks.send(notification, target, { id: 'a', paid: true })
  if (result.outcome === 'delivered') expect(result.body).type.toBe<{ ok: boolean } | undefined>()
  else expect(result.error.code).type.toBe<string>()
  expect(await app.callbacks.enqueue(notification, target, { id: 'a', paid: true })).type.toBe<{ id: string }>()
})

const withParameters = app.webhooks.post('with-parameters', {
  schema: {
    body: Event,
    headers: Type.Object({ 'x-request-id': Type.String(), 'x-tenant': Type.Optional(Type.String()) }),
    querystring: Type.Object({ attempt: Type.Integer() })
  }
})
const optionalOnly = app.webhooks.post('optional-only', { schema: { querystring: Type.Object({ page: Type.Optional(Type.Integer()) }) } })

test('declared header and query parameters are typed: a missing required one or a wrong type does not compile', () => {
  const payload = { id: 'a', paid: true }
  const url = 'https://receiver.example/hook'
  expect(app.callbacks.send).type.toBeCallableWith(withParameters, url, payload, { headers: { 'x-request-id': 'r' }, query: { attempt: 1 } })
  expect(app.callbacks.send).type.toBeCallableWith(withParameters, url, payload, { headers: { 'x-request-id': 'r', 'x-other': 1 }, query: { attempt: 1 }, subscriber: 'acme' })
  expect(app.callbacks.send).type.not.toBeCallableWith(withParameters, url, payload)
  expect(app.callbacks.send).type.not.toBeCallableWith(withParameters, url, payload, { query: { attempt: 1 } })
  expect(app.callbacks.send).type.not.toBeCallableWith(withParameters, url, payload, { headers: { 'x-request-id': 7 }, query: { attempt: 1 } })
  expect(app.callbacks.send).type.not.toBeCallableWith(withParameters, url, payload, { headers: { 'x-request-id': 'r' }, query: { attempt: 'one' } })
  expect(app.callbacks.enqueue).type.not.toBeCallableWith(withParameters, url, payload, { headers: { 'x-request-id': 'r' } })
  expect(app.callbacks.enqueue).type.toBeCallableWith(optionalOnly, url, undefined)
  expect(app.callbacks.enqueue).type.toBeCallableWith(optionalOnly, url, undefined, { query: { page: 2 } })
  expect(app.callbacks.enqueue).type.not.toBeCallableWith(optionalOnly, url, undefined, { query: { page: 'two' } })
  expect(app.callbacks.send).type.toBeCallableWith(subscription, url, payload, { headers: { 'x-anything': 'yes' }, subscriber: 'acme' })
  expect(app.callbacks.send).type.not.toBeCallableWith(subscription, url, payload, { subscriber: 42 })
})

test('fanOut() takes targets or subscribers with their options, and gives a result per subscriber', () => {
  const payload = { id: 'a', paid: true }
  expect(app.callbacks.fanOut(subscription, ['https://a.example', { target: 'https://b.example', subscriber: 'b' }], payload)).type.toBe<Promise<FanOutResult[]>>()
  expect(app.callbacks.fanOut).type.not.toBeCallableWith(subscription, ['https://a.example'], { id: 'a' })
  expect(app.callbacks.fanOut).type.toBeCallableWith(withParameters, [{ target: 'https://a.example', headers: { 'x-request-id': 'r' }, query: { attempt: 1 } }], payload)
  expect(app.callbacks.fanOut).type.not.toBeCallableWith(withParameters, ['https://a.example'], payload)
})

test('a queued message ends as one of the final outcomes, stalled and unreadable (BullMQ) among them', () => {
  expect<FinalOutcome>().type.toBe<'delivered' | 'failed' | 'gone' | 'contract-violation' | 'exhausted' | 'stalled' | 'unreadable'>()
  expect<OutcomeEvent['outcome']>().type.toBe<FinalOutcome>()
  // none for an unreadable message; none for a key this process does not know
  expect<undefined>().type.toBeAssignableTo<OutcomeEvent['definition']>()
  expect<OutcomeEvent['target']>().type.toBe<CallbackTarget | WebhookTarget | undefined>()
})
