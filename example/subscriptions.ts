// FastAPI's "OpenAPI Webhooks" tutorial, ported: the API tells its users' servers about new subscriptions.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'

export const Subscription = Type.Object({
  username: Type.String(),
  monthly_fee: Type.Number(),
  start_date: Type.String({ format: 'date-time' })
}, { $id: 'Subscription' })

/** FastAPI's webhook example, word for word; the zod example says the same. */
export const newSubscriptionDescription = [
  'When a new user subscribes to your service we\'ll send you a POST request with this',
  'data to the URL that you register for the event `new-subscription` in the dashboard.'
].join('\n')

export async function subscriptionRoutes (app: FastifyInstance): Promise<void> {
  app.addSchema(Subscription)

  app.webhooks.post('new-subscription', {
    description: newSubscriptionDescription,
    // authenticated by its Standard Webhooks signature, documented among its headers, not by an OpenAPI scheme
    security: [],
    schema: { body: Type.Ref(Subscription) }
  })

  app.get('/users/', {
    schema: { summary: 'Read Users', response: { 200: Type.Array(Type.String()) } }
  }, async () => ['Rick', 'Morty'])
}
