// The example app (app.ts) with zod schemas, set up as fastify-type-provider-zod's README says.
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import openapiCallbacks from '../lib/index.js'
import type { ExampleOptions } from './app.js'
import { zodInvoiceRoutes } from './zod-invoices.js'
import { zodSubscriptionRoutes } from './zod-subscriptions.js'

export async function buildZodApp ({ openapi = '3.1.0', delivery, ...serverOptions }: ExampleOptions = {}) {
  const app = Fastify(serverOptions)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(swagger, {
    openapi: { openapi, info: { title: 'Invoices', version: '1.0.0' }, security: [] },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject
  })
  await app.register(openapiCallbacks, { delivery })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.register(zodInvoiceRoutes)
  await app.register(zodSubscriptionRoutes)
  return app
}
