import { test } from 'tap'
import { Webhook } from 'standardwebhooks'
import { buildZodApp } from '../example/zod-app.js'
import { startReceiver } from './receivers.js'

const SECRET = `whsec_${Buffer.alloc(32, 8).toString('base64')}`

test('the zod invoice example sends its callback validated by zod and signed: the standardwebhooks package verifies it', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const app = await buildZodApp({ delivery: { secret: SECRET, allowHttp: true, allow: ['127.0.0.1'] } })
  t.teardown(() => app.close())

  const created = await app.inject({ method: 'POST', url: `/invoices/?callback_url=${encodeURIComponent(receiver.origin)}`, payload: { id: 'inv-1', customer: 'Ada', total: 12.5 } })
  t.same(created.json(), { msg: 'Invoice received' })
  const paid = await app.inject({ method: 'POST', url: '/invoices/inv-1/pay' })
  t.same(paid.json(), { msg: 'Invoice paid', callback: 'delivered, the receiver answered ok: true' })

  const { url, body, headers } = receiver.received[0]!
  t.equal(url, '/invoices/inv-1', 'the URL resolved from the zod route\'s querystring and body')
  t.same(new Webhook(SECRET).verify(body, headers as Record<string, string>), { description: 'Invoice inv-1 paid', paid: true })

  receiver.answer((_, response) => { response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":1}') })
  await app.inject({ method: 'POST', url: `/invoices/?callback_url=${encodeURIComponent(receiver.origin)}`, payload: { id: 'inv-2', customer: 'Ada', total: 1 } })
  t.match((await app.inject({ method: 'POST', url: '/invoices/inv-2/pay' })).json(), { callback: /breaks the response schema: \/ok: Invalid input: expected boolean, received number/ }, 'the answer checked by InvoiceEventReceived')

  const refused = await app.inject({ method: 'POST', url: '/invoices/', payload: { id: 'inv-3', customer: 'Ada' } })
  t.equal(refused.statusCode, 400, 'the route itself is validated by fastify-type-provider-zod')

  await app.inject({ method: 'POST', url: '/invoices/', payload: { id: 'quiet', customer: 'Ada', total: 1 } })
  t.same((await app.inject({ method: 'POST', url: '/invoices/quiet/pay' })).json(), { msg: 'Invoice paid', callback: 'none: the invoice has no callback_url' })
  const unknown = await app.inject({ method: 'POST', url: '/invoices/nope/pay' })
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { msg: 'No invoice nope' })
  t.equal(receiver.received.length, 2, 'nothing else was sent')
})
