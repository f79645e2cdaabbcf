// The API user's side of the invoice example: the "external API" that receives the invoice callback.
import Fastify from 'fastify'
import type { FastifyServerOptions } from 'fastify'
import { Type } from '@sinclair/typebox'
import { webhookReceiver } from '../lib/index.js'
import { InvoiceEvent, InvoiceEventReceived } from './invoices.js'

export interface ExternalApiOptions extends FastifyServerOptions {
  /** The `whsec_` secret it shares with the invoice app. */
  secret: string
}

export async function buildExternalApi ({ secret, ...serverOptions }: ExternalApiOptions) {
  const app = Fastify(serverOptions)
  app.addSchema(InvoiceEvent)
  app.addSchema(InvoiceEventReceived)
  // its own context: the receiver verifies the Standard Webhooks signature of every request to the routes beside it
  await app.register(async (receiver) => {
    await receiver.register(webhookReceiver, { secret })
    receiver.post('/invoices/:id', {
      schema: {
        params: Type.Object({ id: Type.String() }),
        body: Type.Ref(InvoiceEvent),
        response: { 200: Type.Ref(InvoiceEventReceived) }
      }
    }, async (request) => {
      request.log.info({ invoice: (request.params as { id: string }).id, event: request.body, webhookId: request.headers['webhook-id'] }, 'external API: signed invoice callback received')
      return { ok: true }
    })
  })
  return app
}
