// FastAPI's "OpenAPI Callbacks" tutorial, ported: an invoice API that calls its users back.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'

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

/** `POST /invoices/`, whose callback is documented by `invoicesCallbackRouter`. */
export async function invoiceRoutes (app: FastifyInstance): Promise<void> {
  app.addSchema(Invoice)
  app.addSchema(InvoiceEvent)
  app.addSchema(InvoiceEventReceived)

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
}
