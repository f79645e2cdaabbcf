// FastAPI's "OpenAPI Callbacks" tutorial, ported: an invoice API that calls its users back.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import type { CallbackTarget } from '../lib/index.js'

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

// FastAPI's description of its create_invoice route
export const createInvoiceDescription = [
  'Create an invoice.',
  '',
  'This will (let\'s imagine) let the API user (some external developer) create an invoice.',
  '',
  'And this path operation will:',
  '',
  '* Send the invoice to the client.',
  '* Collect the money from the client.',
  '* Send a notification back to the API user (the external developer), as a callback.'
].join('\n')

export const invoicesCallbackRouter = callbackRouter()

export const invoiceNotification = invoicesCallbackRouter.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_notification',
  // no OpenAPI security scheme: the API user's server authenticates the callback by its Standard Webhooks
  // signature, which the document lists among the callback's headers
  security: [],
  schema: {
    body: Type.Ref(InvoiceEvent),
    response: { 200: Type.Ref(InvoiceEventReceived) }
  }
})

export interface InvoiceRoutesOptions {
  /** Pay enqueues the callback, for the workers to deliver, instead of sending one attempt now. */
  queue?: boolean
}

/** `POST /invoices/`, whose callback is documented by `invoicesCallbackRouter`, and `POST /invoices/:id/pay`, which sends it. */
export async function invoiceRoutes (app: FastifyInstance, { queue = false }: InvoiceRoutesOptions): Promise<void> {
  app.addSchema(Invoice)
  app.addSchema(InvoiceEvent)
  app.addSchema(InvoiceEventReceived)

  // The invoices, each with where to call back: resolved when the invoice is created, as Shopify freezes the address
  const invoices = new Map<string, { invoice: Static<typeof Invoice>, callback: CallbackTarget | undefined }>()

  app.post('/invoices/', {
    schema: {
      summary: 'Create Invoice',
      description: createInvoiceDescription,
      querystring: Type.Object({ callback_url: Type.Optional(Type.String({ format: 'uri' })) }),
      body: Type.Ref(Invoice),
      response: { 200: Type.Object({ msg: Type.String() }) },
      callbacks: invoicesCallbackRouter.routes
    }
  }, async (request) => {
    const invoice = request.body as Static<typeof Invoice>
    // A callback_url that the address policy forbids is answered here with a 400; without one, nothing will be sent
    const resolved = app.callbacks.target(invoiceNotification, request)
    invoices.set(invoice.id, { invoice, callback: resolved.ok ? resolved.target : undefined })
    return { msg: 'Invoice received' }
  })

  app.post('/invoices/:id/pay', {
    schema: {
      summary: 'Pay Invoice',
      params: Type.Object({ id: Type.String() }),
      response: {
        200: Type.Object({ msg: Type.String(), callback: Type.String() }),
        404: Type.Object({ msg: Type.String() })
      }
    }
  }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const record = invoices.get(id)
    if (record === undefined) return reply.code(404).send({ msg: `No invoice ${id}` })
    if (record.callback === undefined) return { msg: 'Invoice paid', callback: 'none: the invoice has no callback_url' }
    const event = { description: `Invoice ${id} paid`, paid: true }
    if (queue) {
      // stored once this resolves: a worker delivers it, retrying by the schedule, whatever happens to this process
      const { id: messageId } = await app.callbacks.enqueue(invoiceNotification, record.callback, event)
      return { msg: 'Invoice paid', callback: `queued as ${messageId}` }
    }
    // One attempt now, so that the answer shows the receiver's; app.callbacks.enqueue() would retry by the schedule
    const result = await app.callbacks.send(invoiceNotification, record.callback, event)
    return { msg: 'Invoice paid', callback: result.outcome === 'delivered' ? `delivered, the receiver answered ok: ${result.body?.ok}` : result.error.message }
  })
}
