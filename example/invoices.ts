// FastAPI's "OpenAPI Callbacks" tutorial, ported: an invoice API that calls its users back.
import Fastify from 'fastify'
import type { FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Type } from '@sinclair/typebox'
import openapiCallbacks, { callbackRouter } from '../lib/index.js'

export const Invoice = Type.Object({
  id: Type.String(),
  title: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  customer: Type.String(),
  total: Type.Number()
}, { $id: 'Invoice' })

export const InvoiceEvent = Type.Object({
  description: Type.String(),
  paid: Type.Boolean()
}, { $id: 'InvoiceEvent' })

export const InvoiceEventReceived = Type.Object({
  ok: Type.Boolean()
}, { $id: 'InvoiceEventReceived' })

export const invoicesCallbackRouter = callbackRouter()

export const invoiceNotification = invoicesCallbackRouter.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_notification',
  schema: {
    body: Type.Ref(InvoiceEvent),
    response: { 200: Type.Ref(InvoiceEventReceived) }
  }
})

export interface InvoiceAppOptions extends FastifyServerOptions {
  /** The OpenAPI version of the document: '3.0.3' (the default) or '3.1.0'. */
  openapi?: string
}

export async function buildInvoiceApp ({ openapi = '3.0.3', ...serverOptions }: InvoiceAppOptions = {}) {
  const app = Fastify(serverOptions)
  app.addSchema(Invoice)
  app.addSchema(InvoiceEvent)
  app.addSchema(InvoiceEventReceived)

  await app.register(swagger, {
    openapi: { openapi, info: { title: 'Invoices', version: '1.0.0' } },
    // components named after the schemas' $id, as FastAPI names them after the models
    refResolver: { buildLocalReference: (json) => json.$id as string }
  })
  await app.register(openapiCallbacks)
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.post('/invoices/', {
    schema: {
      summary: 'Create Invoice',
      description: [
        'Create an invoice.',
        '',
        'This will (let\'s imagine) let the API user (some external developer) create an invoice.',
        '',
        'And this path operation will:',
        '',
        '* Send the invoice to the client.',
        '* Collect the money from the client.',
        '* Send a notification back to the API user (the external developer), as a callback.'
      ].join('\n'),
      querystring: Type.Object({ callback_url: Type.Optional(Type.String({ format: 'uri' })) }),
      body: Type.Ref(Invoice),
      response: { 200: Type.Object({ msg: Type.String() }) },
      callbacks: invoicesCallbackRouter.routes
    }
  }, async () => {
    // Send the invoice, collect the money, send the notification (the callback)
    return { msg: 'Invoice received' }
  })

  return app
}
