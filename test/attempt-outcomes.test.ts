import { test } from 'tap'
import type { Test } from 'tap'
import http from 'node:http'
import type { AddressInfo, LookupFunction } from 'node:net'
import { Type } from '@sinclair/typebox'
import { appWith } from './helpers.js'
import { startReceiver } from './receivers.js'
import type { Handler } from './receivers.js'

const Ack = Type.Object({ ok: Type.Boolean() })

async function sender (t: Test) {
  const lines: Array<Record<string, any>> = []
  const app = await appWith({
    openapi: '3.1.0',
    pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], headersTimeout: 300, bodyTimeout: 300, maxResponseSize: 1024 } },
    serverOptions: { logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } }
  })
  const event = app.webhooks.post('event', { schema: { response: { 200: Ack } } })
  await app.ready()
  t.teardown(() => app.close())
  return { app, lines, event }
}

const json = (status: number, body: string, headers: http.OutgoingHttpHeaders = {}): Handler => (_, response) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body)
}

test('every kind of answer is classified: delivered, contract violation, failed, gone, retryable', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, lines, event } = await sender(t)
  const inOneHour = new Date(Date.now() + 3_600_000).toUTCString()
  const cases: Array<[string, Handler, Record<string, unknown>]> = [
    ['200 as declared', json(200, '{"ok":true}'), { outcome: 'delivered', statusCode: 200, body: { ok: true } }],
    ['200 breaking the response schema', json(200, '{"ok":"yes"}'), {
      outcome: 'contract-violation',
      statusCode: 200,
      error: {
        code: 'FST_OPENAPI_CALLBACKS_CONTRACT_VIOLATION',
        message: /answered 200 but broke the declared response: its body breaks the response schema: \/ok must be boolean\. It is not retried/
      }
    }],
    ['200 led by a byte-order mark', json(200, '\ufeff{"ok":true}'), { outcome: 'delivered', statusCode: 200, body: { ok: true } }],
    ['200 with invalid JSON', json(200, '{"ok":'), { outcome: 'contract-violation', error: { message: /its body cannot be read as JSON \(SyntaxError/ } }],
    ['200 with HTML', (_, response) => { response.writeHead(200, { 'content-type': 'text/html' }).end('<p>ok</p>') },
      { outcome: 'contract-violation', error: { message: /its content-type is "text\/html", not JSON/ } }],
    ['200 without a content-type', (_, response) => { response.writeHead(200).end('{"ok":true}') },
      { outcome: 'contract-violation', error: { message: /its content-type is "", not JSON/ } }],
    ['a redirect', (_, response) => { response.writeHead(301, { location: '/elsewhere' }).end() }, {
      outcome: 'failed',
      statusCode: 301,
      error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS', message: /answered 301: a redirect, which is never followed: register the final URL$/ }
    }],
    ['400', json(400, '{"error":"bad"}'), { outcome: 'failed', statusCode: 400, error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS', message: /answered 400: the receiver refused the message; it is not retried$/ } }],
    ['410', json(410, ''), { outcome: 'gone', statusCode: 410, error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_GONE', statusCode: 502 } }],
    ['429 with Retry-After seconds', json(429, '', { 'retry-after': '30' }), {
      outcome: 'retryable', statusCode: 429, retryAfter: 30_000, error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS' }
    }],
    ['500 with an unreadable Retry-After', json(500, '', { 'retry-after': 'soon' }), { outcome: 'retryable', statusCode: 500, retryAfter: undefined }],
    ['502', json(502, ''), { outcome: 'retryable', statusCode: 502, retryAfter: undefined }]
  ]
  for (const [name, handler, expected] of cases) {
    receiver.answer(handler)
    t.match(await app.callbacks.send(event, receiver.origin, undefined), expected, name)
  }
  t.equal(receiver.received.length, cases.length, 'one request each: the redirect was not followed')

  receiver.answer(json(503, '', { 'retry-after': inOneHour }))
  const dated = await app.callbacks.send(event, receiver.origin, undefined)
  t.equal(dated.outcome, 'retryable')
  const { retryAfter } = dated as { retryAfter: number }
  t.ok(retryAfter > 0 && retryAfter <= 3_600_000, 'an HTTP-date Retry-After is the wait until then')

  t.match(lines.find(line => line.statusCode === 410), {
    level: 40, msg: 'attempt gone', kind: 'webhook', name: 'event', attempt: 1, outcome: 'gone', err: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_GONE' }
  })
})

test('misbehaving receivers: huge, slow or silent answers, resets and refused connections are classified, never thrown', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app, event } = await sender(t)
  const huge = 'x'.repeat(100_000)
  const cases: Array<[string, Handler, Record<string, unknown>]> = [
    ['a 200 body beyond maxResponseSize', json(200, `{"ok":true,"pad":"${huge}"}`),
      { outcome: 'contract-violation', error: { message: /cannot be read as JSON \(ResponseExceededMaxSizeError/ } }],
    ['a 500 body beyond maxResponseSize', json(500, huge), { outcome: 'retryable', statusCode: 500 }],
    ['a 200 body that stalls', (_, response) => { response.writeHead(200, { 'content-type': 'application/json' }).write('{"ok":') },
      { outcome: 'contract-violation', statusCode: 200, error: { message: /BodyTimeoutError/ } }],
    ['no answer', () => {}, {
      outcome: 'retryable',
      statusCode: undefined,
      error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', message: /HeadersTimeoutError/, cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } }
    }],
    ['a reset connection', (_, response) => { response.socket!.destroy() }, {
      outcome: 'retryable', error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', message: /SocketError: other side closed/ }
    }]
  ]
  for (const [name, handler, expected] of cases) {
    receiver.answer(handler)
    t.match(await app.callbacks.send(event, receiver.origin, undefined), expected, name)
  }

  const closed = http.createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise(resolve => closed.close(resolve))
  t.match(await app.callbacks.send(event, `http://127.0.0.1:${port}`, undefined), {
    outcome: 'retryable', error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', message: /ECONNREFUSED/ }
  }, 'a refused connection')
})

test('a host name that resolves to a forbidden address is refused when connecting, and nothing is sent', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  // names resolve to the receiver's own loopback address: were the policy to fail, the receiver would count a request
  const lookup: LookupFunction = (hostname, options, callback) => {
    const address = { address: '127.0.0.1', family: 4 }
    if (options.all === true) process.nextTick(callback, null, [address])
    else process.nextTick(callback, null, address.address, address.family)
  }
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, lookup } } })
  t.teardown(() => app.close())
  const event = app.webhooks.post('event')
  await app.ready()
  const port = new URL(receiver.origin).port
  for (const host of ['callbacks.test', 'localhost']) {
    t.match(await app.callbacks.send(event, `http://${host}:${port}/hook`, undefined), {
      outcome: 'failed',
      statusCode: undefined,
      error: { code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', message: new RegExp(`^Callback host ${host} resolves to 127\\.0\\.0\\.1, which is loopback`) }
    }, host)
  }
  t.equal(receiver.received.length, 0)
})

test('the sender keeps each URL\'s origin and path, yet every new connection is checked: a name whose answer turns forbidden is refused', async (t) => {
  // every answer closes its connection, so that every attempt connects, and asks the lookup, again
  const receiver = await startReceiver((_, response) => { response.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{"ok":true}') })
  t.teardown(() => receiver.close())
  // the name resolves to the trusted receiver, then to 127.0.0.2: loopback, untrusted, and nothing listens there
  const answers = ['127.0.0.1', '127.0.0.2', '127.0.0.1']
  const asked: string[] = []
  const lookup: LookupFunction = (hostname, options, callback) => {
    const address = { address: answers[asked.length] ?? '127.0.0.2', family: 4 }
    asked.push(address.address)
    if (options.all === true) process.nextTick(callback, null, [address])
    else process.nextTick(callback, null, address.address, address.family)
  }
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], lookup } } })
  t.teardown(() => app.close())
  const event = app.webhooks.post('event')
  await app.ready()
  const url = `http://receiver.test:${new URL(receiver.origin).port}/hook`
  t.match(await app.callbacks.send(event, url, undefined), { outcome: 'delivered', statusCode: 200 }, 'first: the trusted address')
  t.match(await app.callbacks.send(event, url, undefined), {
    outcome: 'failed', statusCode: undefined, error: { code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', message: /^Callback host receiver\.test resolves to 127\.0\.0\.2, which is loopback/ }
  }, 'then the same URL, whose name now resolves to a forbidden address')
  t.match(await app.callbacks.send(event, url, undefined), { outcome: 'delivered', statusCode: 200 }, 'and back')
  t.same(asked, answers, 'one lookup per attempt')
  t.equal(receiver.received.length, 2)
})

test('a receiver\'s answer is checked up to its first fault only; the app\'s own payload gets every fault', async (t) => {
  const receiver = await startReceiver(json(200, '{}'))
  t.teardown(() => receiver.close())
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  t.teardown(() => app.close())
  const fields = ['a', 'b', 'c', 'd']
  const Strict = Type.Object(Object.fromEntries(fields.map(field => [field, Type.String()])))
  const strict = app.webhooks.post('strict', { schema: { body: Strict, response: { 200: Strict } } })
  await app.ready()

  const result = await app.callbacks.send(strict, receiver.origin, { a: 'a', b: 'b', c: 'c', d: 'd' })
  t.match(result, { outcome: 'contract-violation', error: { message: /its body breaks the response schema: \/ must have required property 'a'\. It is not retried/ } })
  t.notMatch((result as { error: Error }).error.message, /property 'b'/, 'the answer\'s other faults were not looked for')

  await t.rejects(app.callbacks.send(strict, receiver.origin, {} as any), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD',
    validation: fields.map(field => `/ must have required property '${field}'`)
  }, 'every fault of a payload')
})
