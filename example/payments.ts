// Callbacks for every route of a router, as FastAPI's `APIRouter(callbacks=...)`: every payment route tells the
// client's server about the payment's status, and a refund also says when the money is back.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'

export const PaymentRequest = Type.Object({
  amount: Type.Number(),
  status_url: Type.String({ format: 'uri' })
})

export const PaymentStatus = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])
}, { 'x-examples': { succeeded: { summary: 'The payment went through', value: { id: 'pay-1', status: 'succeeded' } } } })

/** The callbacks every payment route declares. */
export const paymentEvents = callbackRouter()
export const paymentStatus = paymentEvents.post('{$request.body#/status_url}', {
  name: 'payment_status',
  schema: { body: PaymentStatus }
})

export const refunded = callbackRouter().post('{$request.body#/status_url}/refunded', {
  name: 'refunded',
  schema: { body: Type.Object({ id: Type.String(), refunded_at: Type.String({ format: 'date-time' }) }) }
})

/** `/payments/`: every route gets `payment_status`; the refund route adds its own; the health check opts out. */
export async function paymentRoutes (app: FastifyInstance): Promise<void> {
  app.register(async (payments) => {
    payments.routeCallbacks(paymentEvents.routes)

    payments.post('/', { schema: { summary: 'Create Payment', body: PaymentRequest } }, async (request, reply) => {
      // sent later, when the payment settles; resolved now, while the request is at hand
      const target = payments.callbacks.target(paymentStatus, request)
      return reply.code(202).send(target)
    })
    payments.post('/:id/refund', {
      schema: { summary: 'Refund Payment', params: Type.Object({ id: Type.String() }), body: PaymentRequest, callbacks: [refunded] }
    }, async (_, reply) => reply.code(202).send({ accepted: true }))
    payments.get('/health', { schema: { summary: 'Health', callbacks: false } }, async () => ({ ok: true }))
  }, { prefix: '/payments' })
}
