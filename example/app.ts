import Fastify from 'fastify'
import type { FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import openapiCallbacks from '../lib/index.js'
import type { DeliveryOptions } from '../lib/index.js'
import { invoiceRoutes } from './invoices.js'
import { paymentRoutes } from './payments.js'
import { subscriptionRoutes } from './subscriptions.js'

export interface ExampleOptions extends FastifyServerOptions {
  /** The document's OpenAPI version: '3.1.0' (the default, which can show webhooks) or '3.0.3'. */
  openapi?: string
  /** How callbacks are sent: the default allows only https to public addresses. */
  delivery?: DeliveryOptions
  /** Paying an invoice enqueues its callback (durable delivery by workers) instead of sending it at once. */
  queue?: boolean
}

export async function buildApp ({ openapi = '3.1.0', delivery, queue = false, ...serverOptions }: ExampleOptions = {}) {
  const app = Fastify(serverOptions)
  await app.register(swagger, {
    // like FastAPI's tutorials, the API asks its clients for no credentials: the routes need none
    openapi: { openapi, info: { title: 'Invoices', version: '1.0.0' }, security: [] },
    // components named after the schemas' $id, as FastAPI names them after the models
    refResolver: { buildLocalReference: (json) => json.$id as string }
  })
  await app.register(openapiCallbacks, { delivery })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  await app.register(invoiceRoutes, { queue })
  await app.register(subscriptionRoutes)
  await app.register(paymentRoutes)
  return app
}
