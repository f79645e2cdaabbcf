// The webhooks example (subscriptions.ts) with zod schemas.
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { newSubscriptionDescription } from './subscriptions.js'

export const Subscription = z.object({
  username: z.string(),
  monthly_fee: z.number(),
  start_date: z.string().meta({ format: 'date-time' })
}).meta({ id: 'Subscription' })

export async function zodSubscriptionRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>()
  app.webhooks.post('new-subscription', {
    description: newSubscriptionDescription,
    security: [],
    schema: { body: Subscription }
  })

  app.get('/users/', {
    schema: { summary: 'Read Users', response: { 200: z.array(z.string()) } }
  }, async () => ['Rick', 'Morty'])
}
