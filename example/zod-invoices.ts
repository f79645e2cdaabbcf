// The invoice example (invoices.ts) with zod schemas, as fastify-type-provider-zod's users write them.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { callbackRouter } from '../lib/index.js'
import type { CallbackTarget } from '../lib/index.js'
import { createInvoiceDescription } from './invoices.js'

// `id`s put them in z.globalRegistry: fastify-type-provider-zod's jsonSchemaTransformObject makes them components
export const Invoice = z.object({
  id: z.string(),
  title: z.string().nullable().optional(),
  customer: z.string(),
  total: z.number()
}).meta({ id: 'Invoice' })

export const InvoiceEvent = z.object({
  description: z.string(),
  paid: z.boolean()
}).meta({ id: 'InvoiceEvent' })

export const InvoiceEventReceived = z.object({
  ok: z.boolean()
}).meta({ id: 'InvoiceEventReceived' })

export const invoicesCallbackRouter = callbackRouter()

export const invoiceNotification = invoicesCallbackRouter.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_notification',
  // authenticated by its Standard Webhooks signature, as in the TypeBox example
  security: [],
  schema: {
    body: InvoiceEvent,
    response: { 200: InvoiceEventReceived }
  }
})

/** `POST /invoices/`, whose callback is documented by `invoicesCallbackRouter`, and `POST /invoices/:id/pay`, which sends it. */
export async function zodInvoiceRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  const invoices = new Map<string, { invoice: z.infer<typeof Invoice>, callback: CallbackTarget | undefined }>()

  app.post('/invoices/', {
    schema: {
      summary: 'Create Invoice',
      description: createInvoiceDescription,
      querystring: z.object({ callback_url: z.url().optional() }),
      body: Invoice,
      response: { 200: z.object({ msg: z.string() }) },
      callbacks: invoicesCallbackRouter.routes
    }
  }, async (request) => {
    // A callback_url that the address policy forbids is answered here with a 400; without one, nothing will be sent
    const resolved = app.callbacks.target(invoiceNotification, request)
    invoices.set(request.body.id, { invoice: request.body, callback: resolved.ok ? resolved.target : undefined })
    return { msg: 'Invoice received' }
  })

  app.post('/invoices/:id/pay', {
    schema: {
      summary: 'Pay Invoice',
      params: z.object({ id: z.string() }),
      response: {
        200: z.object({ msg: z.string(), callback: z.string() }),
        404: z.object({ msg: z.string() })
      }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const record = invoices.get(id)
    if (record === undefined) return reply.code(404).send({ msg: `No invoice ${id}` })
    if (record.callback === undefined) return { msg: 'Invoice paid', callback: 'none: the invoice has no callback_url' }
    // checked by InvoiceEvent.safeParse before it is signed and sent; the answer by InvoiceEventReceived's
    const result = await app.callbacks.send(invoiceNotification, record.callback, { description: `Invoice ${id} paid`, paid: true })
    return { msg: 'Invoice paid', callback: result.outcome === 'delivered' ? `delivered, the receiver answered ok: ${result.body?.ok}` : result.error.message }
  })
}
