// A server whose route declares callbacks but sends none: `request-server.ts <plugin|baseline>`.
// Prints its port. The baseline documents the same route without the plugin.
import Fastify from 'fastify'
import { serveOnLoopback } from './serve.js'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import openapiCallbacks, { callbackRouter } from 'fastify-openapi-callbacks'

const withPlugin = process.argv[2] === 'plugin'
const InvoiceEvent = Type.Object({ description: Type.String(), paid: Type.Boolean() })
const router = callbackRouter()
router.post('{$callback_url}/invoices/{$request.body.id}', { name: 'invoice_paid', schema: { body: InvoiceEvent } })

async function start (): Promise<void> {
  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'Bench', version: '1.0.0' } } })
  if (withPlugin) await app.register(openapiCallbacks)
  app.post('/invoices/', {
    schema: {
      querystring: Type.Object({ callback_url: Type.Optional(Type.String()) }),
      body: Type.Object({ id: Type.String(), total: Type.Number() }),
      response: { 200: Type.Object({ msg: Type.String() }) },
      ...(withPlugin ? { callbacks: router.routes } : {})
    }
  }, async () => ({ msg: 'Invoice received' }))
  await serveOnLoopback(app)
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
