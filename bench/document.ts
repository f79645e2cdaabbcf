// One measurement of `ready()` + the first `swagger()`, in a fresh process: `document.ts <plugin|raw> <routes>`.
// Prints the milliseconds as JSON. The plugin and the raw baseline document the same two callbacks per route.
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import openapiCallbacks, { callbackRouter } from 'fastify-openapi-callbacks'

const [mode = 'plugin', count = '1000'] = process.argv.slice(2)
const routes = Number(count)

const Invoice = Type.Object({ id: Type.String(), customer: Type.String(), total: Type.Number() })
const InvoiceEvent = Type.Object({ description: Type.String(), paid: Type.Boolean() })
const InvoiceEventReceived = Type.Object({ ok: Type.Boolean() })
const querystring = Type.Object({ callback_url: Type.String({ format: 'uri' }) })

const router = callbackRouter()
router.post('{$callback_url}/invoices/{$request.body.id}', {
  name: 'invoice_paid',
  schema: { body: InvoiceEvent, response: { 200: InvoiceEventReceived } }
})
router.post('{$callback_url}/invoices/{$request.body.id}/refunds', {
  name: 'invoice_refunded',
  schema: { body: InvoiceEvent, response: { 200: InvoiceEventReceived } }
})

const operation = {
  requestBody: { required: true, content: { 'application/json': { schema: InvoiceEvent } } },
  responses: { 200: { description: 'Successful Response', content: { 'application/json': { schema: InvoiceEventReceived } } } }
}
const raw = {
  invoice_paid: { '{$request.query.callback_url}/invoices/{$request.body#/id}': { post: operation } },
  invoice_refunded: { '{$request.query.callback_url}/invoices/{$request.body#/id}/refunds': { post: operation } }
}

async function measure (): Promise<number> {
  const start = process.hrtime.bigint()
  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'Bench', version: '1.0.0' } } })
  if (mode === 'plugin') await app.register(openapiCallbacks)
  for (let index = 0; index < routes; index++) {
    app.post(`/invoices/${index}`, {
      schema: { querystring, body: Invoice, callbacks: mode === 'plugin' ? router.routes : raw }
    }, async () => ({}))
  }
  await app.ready()
  app.swagger()
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6
  await app.close()
  return elapsed
}

measure().then((milliseconds) => { process.stdout.write(JSON.stringify({ milliseconds }) + '\n') }, (error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
