import { test } from 'tap'
import { parse } from 'yaml'
import { buildApp } from '../example/app.js'
import { unsignedHeaders, validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

const KEY = '{$request.query.callback_url}/invoices/{$request.body#/id}'

// What FastAPI's tutorial documents, with the expression key made valid and components named after the models
const invoiceNotification = {
  summary: 'Invoice Notification',
  operationId: 'post_invoices_invoice_notification_post',
  security: [],
  parameters: unsignedHeaders,
  requestBody: {
    required: true,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/InvoiceEvent' } } }
  },
  responses: {
    200: {
      description: 'Successful Response',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/InvoiceEventReceived' } } }
    }
  }
}

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`the invoice example documents its callback completely in OpenAPI ${openapi}`, async (t) => {
    const app = await buildApp({ openapi })
    t.teardown(() => app.close())
    await app.ready()

    const document = app.swagger() as Json
    const operation = document.paths['/invoices/'].post
    t.same(operation.callbacks, { invoice_notification: { [KEY]: { post: invoiceNotification } } })
    t.same(document.components.schemas.InvoiceEvent, {
      type: 'object',
      required: ['description', 'paid'],
      properties: { description: { type: 'string' }, paid: { type: 'boolean' } }
    })
    t.same(document.components.schemas.InvoiceEventReceived.properties, { ok: { type: 'boolean' } })
    t.same(await validationErrors(document), [], 'valid against the official schema, no dangling $ref')

    const yaml = app.swagger({ yaml: true }) as string
    t.same(parse(yaml), document, 'the YAML document is the same document')

    const json = await app.inject('/docs/json')
    t.equal(json.statusCode, 200)
    t.same(json.json(), document, 'Swagger UI is served the same document')
    const yamlResponse = await app.inject('/docs/yaml')
    t.equal(yamlResponse.statusCode, 200)
    t.same(parse(yamlResponse.body), document)
  })
}

test('the invoice route itself still works', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const response = await app.inject({
    method: 'POST',
    url: '/invoices/?callback_url=https://www.external.org/events',
    payload: { id: 'inv-1', customer: 'Ada', total: 12.5 }
  })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { msg: 'Invoice received' })
})
