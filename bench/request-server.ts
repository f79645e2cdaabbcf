// A server whose route declares callbacks but sends none: `request-server.ts <plugin|baseline>`.
// Prints its port. The baseline documents the same route without the plugin.
import Fastify from 'fastify'
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
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : ''}\n`)
  process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
