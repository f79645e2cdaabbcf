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
