import { test } from 'tap'
import { buildApp } from '../example/app.js'
import { validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`the payments example: the router's callback on every payment route, before the route's own, in OpenAPI ${openapi}`, async (t) => {
    const app = await buildApp({ openapi })
    t.teardown(() => app.close())
    await app.ready()
    const document = app.swagger() as Json
    t.same(Object.keys(document.paths['/payments/'].post.callbacks), ['payment_status'])
    t.same(Object.keys(document.paths['/payments/{id}/refund'].post.callbacks), ['payment_status', 'refunded'])
    t.equal(document.paths['/payments/health'].get.callbacks, undefined)
    const status = document.paths['/payments/'].post.callbacks.payment_status['{$request.body#/status_url}'].post
    t.equal(status.operationId, 'post_payments_payment_status_post')
    t.same(Object.keys(status.requestBody.content['application/json'].examples), ['succeeded'])
    t.equal(document.paths['/invoices/'].post.callbacks.payment_status, undefined, 'another context gets none')
    t.same(await validationErrors(document), [])
  })
}

test('the payments example resolves the router\'s callback for its route', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const accepted = await app.inject({ method: 'POST', url: '/payments/', payload: { amount: 5, status_url: 'https://client.example.com/status' } })
  t.equal(accepted.statusCode, 202)
  t.match(accepted.json(), { ok: true, target: { key: 'post_payments_payment_status_post', url: 'https://client.example.com/status' } })
  const refused = await app.inject({ method: 'POST', url: '/payments/', payload: { amount: 5, status_url: 'https://127.0.0.1/status' } })
  t.match(refused.json(), { statusCode: 400, code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS' }, 'the address policy refuses a loopback status_url')
  const plain = await app.inject({ method: 'POST', url: '/payments/', payload: { amount: 5, status_url: 'http://client.example.com/status' } })
  t.match(plain.json(), { statusCode: 400, code: 'FST_OPENAPI_CALLBACKS_INVALID_URL' }, 'and plain http, with a coded 400')
})
