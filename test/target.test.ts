import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith } from './helpers.js'

// target() only resolves and checks: nothing here is sent, so the public-looking hosts are never contacted

const router = callbackRouter()
const byQuery = router.post('{$callback_url}/invoices/{$request.body.id}', { name: 'by_query' })
const everyPart = router.post('https://hooks.test/{$method}/{$request.path.tenant}/{$request.header.x-account}?from={$url}', { name: 'every_part' })
const fromResponse = router.post('{$response.body#/callback}/status/{$statusCode}/{$response.header.x-id}', { name: 'from_response' })
const elsewhere = callbackRouter().post('{$request.body#/url}', { name: 'elsewhere' })
// unnamed: the record it is put in names it
const late = callbackRouter().post('{$response.body#/callback}/status/{$statusCode}')

async function app () {
  const app = await appWith()
  app.post('/tenants/:tenant/invoices', {
    schema: {
      params: Type.Object({ tenant: Type.String() }),
      querystring: Type.Object({ callback_url: Type.Optional(Type.String()) }),
      headers: Type.Object({ 'x-account': Type.String() }),
      body: Type.Object({ id: Type.String() }),
      response: { 201: Type.Object({ callback: Type.String() }) },
      callbacks: router.routes
    }
  }, async (request) => {
    const response = { statusCode: 201, headers: { 'x-id': 'r 1' }, body: { callback: 'https://receiver.test/cb' } }
    return {
      byQuery: app.callbacks.target(byQuery, request),
      everyPart: app.callbacks.target(everyPart, request),
      fromResponse: app.callbacks.target(fromResponse, request, response)
    }
  })
  app.post('/no-response', {
    schema: { body: Type.Object({ callback: Type.String() }), response: { 200: Type.Object({ callback: Type.String() }) }, callbacks: { late } }
  }, async (request) => app.callbacks.target(late, request))
  app.post('/other', { schema: { body: Type.Object({ url: Type.String() }), callbacks: [elsewhere] } }, async (request) => app.callbacks.target(byQuery, request))
  app.post('/plain', async (request) => app.callbacks.target(byQuery, request))
  await app.ready()
  return app
}

const invoice = (callbackUrl?: string) => ({
  method: 'POST' as const,
  url: `/tenants/acme/invoices${callbackUrl === undefined ? '' : `?callback_url=${encodeURIComponent(callbackUrl)}`}`,
  headers: { 'x-account': 'acc/9' },
  payload: { id: 'inv/1' }
})

test('a target is plain JSON, resolved from every part of the request and of the reply', async (t) => {
  const server = await app()
  t.teardown(() => server.close())
  const request = invoice('https://receiver.test/base')
  const response = await server.inject(request)
  t.equal(response.statusCode, 200)
  t.same(response.json(), {
    byQuery: { ok: true, target: { kind: 'callback', key: 'post_tenants_tenant_invoices_by_query_post', name: 'by_query', method: 'POST', url: 'https://receiver.test/base/invoices/inv%2F1' } },
    everyPart: {
      ok: true,
      target: {
        kind: 'callback',
        key: 'post_tenants_tenant_invoices_every_part_post',
        name: 'every_part',
        method: 'POST',
        url: `https://hooks.test/POST/acme/acc%2F9?from=${encodeURIComponent(`http://localhost:80${request.url}`)}`
      }
    },
    fromResponse: { ok: true, target: { kind: 'callback', key: 'post_tenants_tenant_invoices_from_response_post', name: 'from_response', method: 'POST', url: 'https://receiver.test/cb/status/201/r%201' } }
  })
})

test('without callback_url there is nothing to send: the missing expression is named', async (t) => {
  const server = await app()
  t.teardown(() => server.close())
  const response = await server.inject(invoice())
  t.same(response.json().byQuery, { ok: false, missing: '$request.query.callback_url' })
})

test('a forbidden or malformed callback URL is refused while the client is answered', async (t) => {
  const server = await app()
  t.teardown(() => server.close())
  const cases: Array<[string, string]> = [
    ['https://127.0.0.1/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['https://2130706433/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['https://0x7f.1/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['https://0.0.0.0/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['https://[::1]/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['https://[::ffff:127.0.0.1]/hook', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['https://169.254.169.254/latest', 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS'],
    ['http://receiver.test/hook', 'FST_OPENAPI_CALLBACKS_INVALID_URL'],
    ['ftp://receiver.test/hook', 'FST_OPENAPI_CALLBACKS_INVALID_URL'],
    ['https://user:secret@receiver.test/hook', 'FST_OPENAPI_CALLBACKS_INVALID_URL'],
    ['/relative/hook', 'FST_OPENAPI_CALLBACKS_INVALID_URL']
  ]
  for (const [url, code] of cases) {
    const response = await server.inject(invoice(url))
    t.equal(response.statusCode, 400, url)
    t.equal(response.json().code, code, url)
  }
})

test('resolving a callback its route does not declare, or without the reply it reads, is a typed error', async (t) => {
  const server = await app()
  t.teardown(() => server.close())
  const other = await server.inject({ method: 'POST', url: '/other', payload: { url: 'https://receiver.test' } })
  t.equal(other.statusCode, 500)
  t.same(other.json(), {
    statusCode: 500,
    code: 'FST_OPENAPI_CALLBACKS_CALLBACK_NOT_ON_ROUTE',
    error: 'Internal Server Error',
    message: 'callback POST {$callback_url}/invoices/{$request.body.id} ("by_query") is not among the callbacks of route POST /other: resolve a target only for a callback declared in the schema of the route handling the request'
  })
  const plain = await server.inject({ method: 'POST', url: '/plain' })
  t.equal(plain.json().code, 'FST_OPENAPI_CALLBACKS_CALLBACK_NOT_ON_ROUTE', 'a route without a schema')

  const noResponse = await server.inject({ method: 'POST', url: '/no-response', payload: { callback: 'https://receiver.test' } })
  t.equal(noResponse.statusCode, 500)
  t.equal(noResponse.json().code, 'FST_OPENAPI_CALLBACKS_RESPONSE_REQUIRED')
  t.equal(noResponse.json().message, 'callback "late": its URL "{$response.body#/callback}/status/{$statusCode}" reads the response, so pass it: target(definition, request, { statusCode, headers, body })')
})
