import { test } from 'tap'
import type { Test } from 'tap'
import net from 'node:net'
import type { AddressInfo, LookupFunction } from 'node:net'
import { Type } from '@sinclair/typebox'
import type { DeliveryOptions } from '../lib/index.js'
import { appWith } from './helpers.js'

/** Idle timeouts far beyond the deadline: in these tests, only the deadline can end an attempt. */
const ONLY_THE_DEADLINE: DeliveryOptions = { allowHttp: true, allow: ['127.0.0.1'], attemptTimeout: 300, connectTimeout: 600_000, headersTimeout: 600_000, bodyTimeout: 600_000 }

async function sender (t: Test, delivery: DeliveryOptions = {}) {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { ...ONLY_THE_DEADLINE, ...delivery } } })
  const checked = app.webhooks.post('checked', { schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } })
  const unchecked = app.webhooks.post('unchecked')
  await app.ready()
  t.teardown(() => app.close())
  return { app, checked, unchecked }
}

/**
 * A raw TCP receiver on 127.0.0.1: once a request's head has arrived, `behave` takes the socket, down to the bytes.
 * Every repeating write stops, and every socket is destroyed, at close.
 */
async function rawReceiver (t: Test, behave: (socket: net.Socket, every: (ms: number, write: () => void) => void) => void) {
  const sockets = new Set<net.Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    let head = ''
    socket.on('data', chunk => {
      if (head.includes('\r\n\r\n')) return
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n')) behave(socket, (ms, write) => { timers.add(setInterval(write, ms)) })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const timer of timers) clearInterval(timer)
    for (const socket of sockets) socket.destroy()
    return new Promise(resolve => server.close(resolve))
  })
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets }
}

const TIMED_OUT = {
  outcome: 'retryable',
  statusCode: undefined,
  error: {
    code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE',
    statusCode: 502,
    message: /FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT.*attemptTimeout \(300 ms\)/,
    cause: { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT', message: /^The attempt did not complete within attemptTimeout \(300 ms\)/ }
  }
}

test('a body trickled one byte at a time never resets the deadline: the attempt ends retryable, whatever the status', async (t) => {
  const { app, checked, unchecked } = await sender(t)
  const statuses: Array<[string, typeof checked | typeof unchecked]> = [
    ['200 OK', checked], // read as JSON for the response schema
    ['200 OK', unchecked], // drained, no schema
    ['500 Internal Server Error', checked],
    ['400 Bad Request', checked]
  ]
  for (const [status, definition] of statuses) {
    const receiver = await rawReceiver(t, (socket, every) => {
      socket.write(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`)
      every(100, () => socket.write(' '))
    })
    t.match(await app.callbacks.send(definition, receiver.origin, undefined), TIMED_OUT, `${status}, ${definition.name}`)
  }
})

test('a flood of 103 Early Hints, which restarts undici\'s headers timer, is ended by the deadline', async (t) => {
  const { app, checked } = await sender(t)
  const receiver = await rawReceiver(t, (socket, every) => {
    every(100, () => socket.write('HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n'))
  })
  t.match(await app.callbacks.send(checked, receiver.origin, undefined), TIMED_OUT)
})

test('a silent receiver is ended by the deadline', async (t) => {
  const silent = await rawReceiver(t, () => {})
  const { app, checked } = await sender(t)
  t.match(await app.callbacks.send(checked, silent.origin, undefined), TIMED_OUT, 'a receiver that reads the request and never answers')
  t.equal(silent.sockets.size, 1, 'the request reached it')
})

test('a connection whose TLS handshake never ends, and a resolver that never calls back, are ended by the deadline', async (t) => {
  // a request still waiting for its connection ends only when connecting does, so the close waits for the connect
  // timeout: kept short here, though far beyond the deadline, whose cause the results must name
  const connectTimeout = 2000
  // a TCP server that accepts and says nothing: https never gets past the handshake, so connecting never ends
  const mute = await rawReceiver(t, () => {})
  const { app, checked } = await sender(t, { connectTimeout })
  t.match(await app.callbacks.send(checked, mute.origin.replace('http:', 'https:'), undefined), TIMED_OUT, 'a connect that hangs')

  let asked = 0
  const neverCalls: LookupFunction = () => { asked++ }
  const { app: stuck, checked: stuckChecked } = await sender(t, { connectTimeout, lookup: neverCalls })
  t.match(await stuck.callbacks.send(stuckChecked, 'http://stuck.test:9/', undefined), TIMED_OUT, 'a lookup that never calls back')
  t.equal(asked, 1, 'the resolver was asked')
})

test('an attempt that completes in time is not touched by its deadline', async (t) => {
  const { app, unchecked } = await sender(t, { attemptTimeout: 60_000 })
  const receiver = await rawReceiver(t, socket => {
    socket.end('HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n')
  })
  t.match(await app.callbacks.send(unchecked, receiver.origin, undefined), { outcome: 'delivered', statusCode: 204 })
})

test('an attempt ended while it waits for a connection is never sent: the connection it then gets is dropped', async (t) => {
  // one connection per receiver: the second attempt waits behind the first, which a silent receiver holds
  let heads = 0
  let firstArrived!: () => void
  const arrived = new Promise<void>(resolve => { firstArrived = resolve })
  const silent = await rawReceiver(t, () => { heads++; firstArrived() })
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { ...ONLY_THE_DEADLINE, attemptTimeout: 600_000, concurrency: 1, closeGrace: 0 } } })
  const unchecked = app.webhooks.post('unchecked')
  await app.ready()
  const results = [app.callbacks.send(unchecked, silent.origin, undefined), app.callbacks.send(unchecked, silent.origin, undefined)]
  await arrived
  // the close ends both at once; undici then connects for the second, which was aborted before it had a connection
  await app.close()
  const aborted = { outcome: 'retryable', error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', cause: { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED' } } }
  t.match(await Promise.all(results), [aborted, aborted])
  t.equal(heads, 1, 'only the first request reached the receiver')
})

test('a secretFor that fails once the deadline has ended the attempt changes nothing: one result, reported once', async (t) => {
  const events: unknown[] = []
  let failLate!: (error: Error) => void
  const app = await appWith({
    openapi: '3.1.0',
    pluginOptions: {
      delivery: {
        ...ONLY_THE_DEADLINE,
        secretFor: () => new Promise((_resolve, reject) => { failLate = reject }),
        // the attempt is reported: only then does the resolver fail
        onAttempt: (event) => { events.push(event); failLate(new Error('the secret store answered late')) }
      }
    }
  })
  t.teardown(() => app.close())
  const unchecked = app.webhooks.post('unchecked')
  await app.ready()
  // nothing else holds the process open while the attempt waits for its secret: the deadline timer does not
  const open = setInterval(() => {}, 60_000)
  t.teardown(() => { clearInterval(open) })
  t.match(await app.callbacks.send(unchecked, 'http://127.0.0.1:9/', undefined), TIMED_OUT)
  await new Promise(resolve => setImmediate(resolve))
  t.equal(events.length, 1)
})

test('a secretFor that answers once the deadline has ended the attempt sends nothing, and opens no connection', async (t) => {
  let heads = 0
  const receiver = await rawReceiver(t, () => { heads++ })
  const events: unknown[] = []
  let answerLate!: (secret: string) => void
  const app = await appWith({
    openapi: '3.1.0',
    pluginOptions: {
      delivery: {
        ...ONLY_THE_DEADLINE,
        secretFor: () => new Promise(resolve => { answerLate = resolve }),
        // the attempt is reported: only then does the resolver answer
        onAttempt: (event) => { events.push(event); answerLate('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') }
      }
    }
  })
  t.teardown(() => app.close())
  const unchecked = app.webhooks.post('unchecked')
  await app.ready()
  t.match(await app.callbacks.send(unchecked, receiver.origin, undefined), TIMED_OUT)
  // time for a request to reach the receiver, had one been sent
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal(heads, 0, 'the receiver got no request')
  t.equal(receiver.sockets.size, 0, 'nor a connection')
  t.equal(events.length, 1, 'the attempt is reported once')
})
