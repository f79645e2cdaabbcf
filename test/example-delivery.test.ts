import { test } from 'tap'
import type { Test } from 'tap'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../example/app.js'
import { buildExternalApi } from '../example/external-api.js'

const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 6).toString('base64')}`

async function example (t: Test, externalSecret = SECRET) {
  const lines: Array<Record<string, any>> = []
  const external = await buildExternalApi({ secret: externalSecret, logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
  await external.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => external.close())
  const app = await buildApp({ delivery: { secret: SECRET, allowHttp: true, allow: ['127.0.0.1'] } })
  t.teardown(() => app.close())
  const callbackUrl = `http://127.0.0.1:${(external.server.address() as AddressInfo).port}`
  const create = (id: string, query = `?callback_url=${encodeURIComponent(callbackUrl)}`) =>
    app.inject({ method: 'POST', url: `/invoices/${query}`, payload: { id, customer: 'Ada', total: 12.5 } })
  const pay = (id: string) => app.inject({ method: 'POST', url: `/invoices/${encodeURIComponent(id)}/pay` })
  return { app, lines, create, pay }
}

test('the round trip: the invoice app signs the callback, the external API verifies it and answers { ok: true }', async (t) => {
  const { create, pay, lines } = await example(t)
  t.same((await create('inv-1')).json(), { msg: 'Invoice received' })
  const paid = await pay('inv-1')
  t.equal(paid.statusCode, 200)
  t.same(paid.json(), { msg: 'Invoice paid', callback: 'delivered, the receiver answered ok: true' })
  t.match(lines.find(line => line.msg === 'external API: signed invoice callback received'), {
    invoice: 'inv-1', event: { description: 'Invoice inv-1 paid', paid: true }, webhookId: /^msg_/
  })
})

test('the example\'s bad input: no callback_url, a forbidden one, an unknown invoice, a receiver with another secret', async (t) => {
  const { create, pay } = await example(t, OTHER_SECRET)
  await create('quiet', '')
  t.same((await pay('quiet')).json(), { msg: 'Invoice paid', callback: 'none: the invoice has no callback_url' })

  const forbidden = await create('inv-2', `?callback_url=${encodeURIComponent('http://[::1]:9')}`)
  t.equal(forbidden.statusCode, 400)
  t.equal(forbidden.json().code, 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS')
  t.equal((await pay('inv-2')).statusCode, 404, 'the refused invoice was not created')

  await create('inv-3')
  t.match((await pay('inv-3')).json(), { msg: 'Invoice paid', callback: /answered 401: the receiver refused the message/ }, 'the signature does not verify')
})
