import fastify from 'fastify'
import { expect, test } from 'tstyche'
import { webhookReceiver } from '../../lib/index.js'
import type { DeliveryOptions, ReplayStore } from '../../lib/index.js'

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

test('webhookReceiver takes its replay options', () => {
  const app = fastify()
  const store: ReplayStore = { seen: async () => false, forget: () => {} }
  expect(app.register).type.toBeCallableWith(webhookReceiver, { secret })
  expect(app.register).type.toBeCallableWith(webhookReceiver, { secret: [secret, secret], toleranceSeconds: 60, replay: false })
  expect(app.register).type.toBeCallableWith(webhookReceiver, { secret, replay: { mode: 'mark', store, timeout: 500 } })
  expect(app.register).type.toBeCallableWith(webhookReceiver, { secret, replay: { maxEntries: 10 } })
  expect(app.register).type.not.toBeCallableWith(webhookReceiver, { secret, replay: { mode: 'skip' } })
  expect(app.register).type.not.toBeCallableWith(webhookReceiver, { secret, replay: { store: { seen: () => 'yes' } } })
})

test('a replay store answers a boolean, at once or later', () => {
  expect<ReplayStore['seen']>().type.toBeAssignableFrom((_id: string, _ttlMs: number) => true)
  expect<ReplayStore['seen']>().type.toBeAssignableFrom(async (_id: string, _ttlMs: number) => true)
  expect<ReplayStore['seen']>().type.not.toBeAssignableFrom(async (_id: string, _ttlMs: number) => 'OK')
})

test('request.webhookReplay is declared on every request, set in receiver contexts', () => {
  fastify().post('/hook', async (request) => {
    expect(request.webhookReplay).type.toBe<boolean | undefined>()
  })
})

test('attemptTimeout is a delivery option', () => {
  expect<DeliveryOptions>().type.toBeAssignableFrom({ attemptTimeout: 5000 })
  expect<DeliveryOptions>().type.not.toBeAssignableFrom({ attemptTimeout: '5s' })
})
