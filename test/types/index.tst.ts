import fastify from 'fastify'
import type { FastifyPluginAsync } from 'fastify'
import { expect, test } from 'tstyche'
import openapiCallbacks, { callbackRouter, fastifyOpenapiCallbacks } from '../../lib/index.js'
import type { CallbackRouter, FastifyOpenapiCallbacksOptions } from '../../lib/index.js'

test('the default export is a Fastify plugin, also exported by name', () => {
  expect(openapiCallbacks).type.toBe<FastifyPluginAsync<FastifyOpenapiCallbacksOptions>>()
  expect(fastifyOpenapiCallbacks).type.toBe(openapiCallbacks)

  const app = fastify()
  expect(app.register).type.toBeCallableWith(openapiCallbacks)
  expect(app.register).type.toBeCallableWith(openapiCallbacks, { decorator: 'openapiDocument' })
  expect(app.register).type.not.toBeCallableWith(openapiCallbacks, { decorator: 42 })
})

test('callbackRouter is a function that makes a router', () => {
  expect(callbackRouter).type.toBeCallableWith()
  expect(callbackRouter()).type.toBe<CallbackRouter>()
})

test('the document option takes signature, a boolean', () => {
  const app = fastify()
  expect(app.register).type.toBeCallableWith(openapiCallbacks, { document: { signature: false } })
  expect(app.register).type.toBeCallableWith(openapiCallbacks, { document: { sharedCallbacks: true } })
  expect(app.register).type.not.toBeCallableWith(openapiCallbacks, { document: { sharedCallbacks: 'yes' } })
  expect(app.register).type.not.toBeCallableWith(openapiCallbacks, { document: { signature: 'no' } })
  expect(app.register).type.not.toBeCallableWith(openapiCallbacks, { document: { signatures: false } })
})

test('definitions take security, and refuse schema.params', () => {
  const router = callbackRouter()
  expect(router.post).type.toBeCallableWith('{$url}', { name: 'a', security: [{ receiverKey: [] }, { oauth: ['read'] }] })
  expect(router.post).type.toBeCallableWith('{$url}', { name: 'a', security: [] })
  expect(router.post).type.not.toBeCallableWith('{$url}', { name: 'a', security: [{ receiverKey: 'read' }] })
  expect(router.post).type.not.toBeCallableWith('{$url}', { name: 'a', schema: { params: { type: 'object' } } })
})
