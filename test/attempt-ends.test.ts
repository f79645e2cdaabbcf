// An attempt ends exactly once, whatever ends it (an answer, its deadline, the close, a request that cannot be made),
// and fastify.close() neither rejects nor hangs because of one.
import { test } from 'tap'
import http from 'node:http'
import { once } from 'node:events'
import type { LookupFunction } from 'node:net'
import type { AttemptEvent, PendingMessage } from '../lib/index.js'
import { createAddressPolicy } from '../lib/address-policy/address-policy.js'
import type { DeliveryMessage } from '../lib/delivery/message.js'
import { handEngine, loopbackApp } from './helpers.js'
import { keptAliveReceiver, startReceiver } from './receivers.js'
import type { Json } from './helpers.js'

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
const ABORTED = { outcome: 'retryable', error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', cause: { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED' } } }

/** How many times each message id appears among `ids`, for those that appear more than once. */
function repeated (ids: unknown[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const id of ids) counts[String(id)] = (counts[String(id)] ?? 0) + 1
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 1))
}

test('every attempt is reported once, by onAttempt and by one warn line, whatever ended it, and even after the close', async (t) => {
  const held: http.ServerResponse[] = []
  const receiver = await startReceiver((request, response) => {
    if (request.url === '/ok') response.writeHead(200).end()
    else if (request.url === '/busy') response.writeHead(503).end()
    else held.push(response) // never answered
  })
  t.teardown(() => receiver.close())
  const attempts: AttemptEvent[] = []
  // a deadline far beyond a loopback answer's time; the silent receiver's attempts are ended by it
  const { app, lines } = await loopbackApp({ attemptTimeout: 2000, onAttempt: event => { attempts.push(event) } })
  t.teardown(() => app.close())
  const plain = app.webhooks.post('plain', {})
  await app.ready()
  const results = await Promise.all(['/ok', '/busy', '/silent', '/ok', '/busy'].map(path => app.callbacks.send(plain, receiver.origin + path, { id: path })))
  t.match(results.map(result => result.outcome), ['delivered', 'retryable', 'retryable', 'delivered', 'retryable'])
  t.match(results[2], { error: { cause: { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT' } } }, 'the silent one ended by its deadline, its request in flight')
  // one more attempt, with the same deadline, started after the others ended: once its deadline has passed, so have theirs
  t.match(await app.callbacks.send(plain, `${receiver.origin}/silent`, { id: 'last' }), { error: { cause: { code: 'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT' } } })
  await app.close()
  const ids = [...results.map(result => result.messageId)]
  t.equal(attempts.length, 6, 'six attempts, six reports')
  t.same(repeated(attempts.map(event => event.messageId)), {}, 'onAttempt once per attempt')
  const warned = lines.filter(line => line.level === 40 && typeof line.messageId === 'string').map(line => line.messageId)
  t.equal(warned.length, 4, 'a warn line for each attempt not delivered')
  t.same(repeated(warned), {}, 'one warn line per attempt')
  t.ok(ids.every(id => attempts.some(event => event.messageId === id)))
})

test('close() aborts every attempt still in flight, after others ended around them: the newest, one between, its elder, the oldest', async (t) => {
  const held = new Map<string, http.ServerResponse>()
  const receiver = await startReceiver((request, response) => { held.set((JSON.parse(request.body) as Json).id, response) })
  t.teardown(() => receiver.close())
  const attempts: AttemptEvent[] = []
  const { app } = await loopbackApp({ attemptTimeout: 600_000, closeGrace: 50, onAttempt: event => { attempts.push(event) } })
  t.teardown(() => app.close())
  const plain = app.webhooks.post('plain', {})
  await app.ready()
  const names = ['1', '2', '3', '4', '5', '6', '7', '8']
  const settled = new Set<string>()
  const sends = names.map(id => app.callbacks.send(plain, receiver.origin, { id }).then(result => { settled.add(id); return result }))
  await receiver.arrived(names.length)
  // an order in which a list of attempts that unlinks one wrongly loses the rest, or keeps one that ended
  const ending = ['8', '4', '3', '1']
  for (const id of ending) {
    held.get(id)!.writeHead(204).end()
    await sends[Number(id) - 1]
  }
  t.same([...settled].sort(), [...ending].sort())
  await app.close()
  t.same([...settled].sort(), names, 'every attempt had ended when close() resolved')
  const results = await Promise.all(sends)
  for (const id of ['2', '5', '6', '7']) t.match(results[Number(id) - 1], ABORTED, `attempt ${id}, still in flight, was aborted by the close`)
  t.equal(attempts.length, names.length, 'each attempt reported once')
  t.same(repeated(attempts.map(event => event.messageId)), {})
})

test('close() is bounded when the Agent\'s own close is not: a connection that waits for a resolver that never answers', async (t) => {
  let asked!: () => void
  const lookupAsked = new Promise<void>(resolve => { asked = resolve })
  const neverAnswers: LookupFunction = () => { asked() }
  // undici's close waits for the request still connecting, up to connectTimeout: ten minutes here
  const { app } = await loopbackApp({ lookup: neverAnswers, connectTimeout: 600_000, attemptTimeout: 600_000, closeGrace: 0 })
  const plain = app.webhooks.post('plain', {})
  await app.ready()
  const result = app.callbacks.send(plain, 'http://stuck.test:9/hooks', { id: 's' })
  await lookupAsked
  const start = performance.now()
  const closing = app.close().then(() => 'closed')
  // generous: the bound is a second, the machine may be slow; the Agent alone would take ten minutes
  t.equal(await Promise.race([closing, new Promise(resolve => { setTimeout(resolve, 20_000, 'still closing after 20 s').unref() })]), 'closed')
  t.ok(performance.now() - start < 20_000)
  t.match(await result, ABORTED)
})

test('an attempt whose request cannot be made, once an asynchronous secretFor answers, ends failed: close() still resolves, calls onPending and closes the Agent', async (t) => {
  const { origin, sockets, close } = await keptAliveReceiver()
  t.teardown(close)
  const answers: Array<() => void> = []
  let pending: PendingMessage[] | undefined
  const { engine, run } = handEngine()
  const { app } = await loopbackApp({
    engine,
    secret: SECRET,
    // undefined: the plugin's secret, given once the test says so
    secretFor: ({ subscriber }) => subscriber === 'later' ? new Promise(resolve => { answers.push(() => resolve(undefined)) }) : undefined,
    onPending: messages => { pending = messages }
  })
  t.teardown(() => app.close())
  const plain = app.webhooks.post('plain', {})
  await app.ready()
  t.match(await app.callbacks.send(plain, origin, { id: 'kept-alive' }), { outcome: 'delivered' })
  t.equal(sockets.length, 1)
  const socketClosed = once(sockets[0]!, 'close').then(() => 'closed')

  const target = { kind: 'webhook', key: 'webhook_plain_post', name: 'plain', method: 'POST', url: origin } as const
  // a stored message whose id the Standard Webhooks signature forbids (it holds a "."): its request cannot be made
  const unsignable = (id: string, subscriber?: string): DeliveryMessage =>
    ({ id, key: target.key, target, body: '{}', headers: {}, attempt: 1, enqueuedAt: Date.now(), ...(subscriber === undefined ? {} : { subscriber }) })
  const failed = { type: 'final', outcome: 'failed', result: { outcome: 'failed', error: { code: 'FST_OPENAPI_CALLBACKS_REQUEST_REFUSED', cause: { code: 'FST_OPENAPI_CALLBACKS_INVALID_SIGNING_INPUT' } } } }
  t.match(await run(unsignable('msg.now')), failed, 'with the keys at once')

  const step = run(unsignable('msg.later', 'later'))
  while (answers.length === 0) await new Promise(resolve => setImmediate(resolve))
  const closing = app.close()
  answers[0]!()
  await t.resolves(closing, 'close() resolves')
  t.match(await step, failed, 'with the keys of an asynchronous secretFor')
  t.same(pending, [], 'onPending was called')
  t.equal(await Promise.race([socketClosed, new Promise(resolve => { setTimeout(resolve, 5000, 'still open 5 s after close').unref() })]), 'closed', 'the Agent was closed')
})

test('allowing one address allows no neighbour: not by IP literal, not in a resolver\'s answer', async (t) => {
  let pending: PendingMessage[] = []
  const { app } = await loopbackApp({ allow: ['203.0.113.7'], schedule: [3_600_000], onPending: messages => { pending = messages } })
  t.teardown(() => app.close())
  const plain = app.webhooks.post('plain', {})
  await app.ready()
  // enqueue() checks the URL and queues it for an hour: nothing here dials an address outside the machine
  for (const neighbour of ['203.0.113.8', '203.0.113.6', '203.0.113.70', '203.0.113.71', '[::ffff:203.0.113.8]', '[::ffff:cb00:7108]']) {
    await t.rejects(app.callbacks.enqueue(plain, `http://${neighbour}/hooks`, { id: neighbour }), { code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS' }, neighbour)
  }
  await app.callbacks.enqueue(plain, 'http://203.0.113.7/hooks', { id: 'seven' })
  await app.callbacks.enqueue(plain, 'http://[::ffff:203.0.113.7]/hooks', { id: 'mapped seven' })
  await app.close()
  t.same(pending.map(({ message }) => message.target.url), ['http://203.0.113.7/hooks', 'http://[::ffff:cb00:7107]/hooks'], 'the allowed address itself is accepted')

  // the resolver's answers, checked by the policy's own lookup (the one the Agent connects through), never dialled
  const answers: Record<string, string> = { 'seven.test': '203.0.113.7', 'eight.test': '203.0.113.8', 'seventy.test': '203.0.113.70', 'six.test': '203.0.113.6' }
  const policy = createAddressPolicy({ allowHttp: true, allow: ['203.0.113.7'], lookup: (hostname, _options, callback) => { callback(null, [{ address: answers[hostname]!, family: 4 }]) } })
  const resolve = (hostname: string): Promise<unknown> => new Promise(resolve => { policy.lookup(hostname, { all: true }, (error, addresses) => { resolve(error ?? addresses) }) })
  t.same(await resolve('seven.test'), [{ address: '203.0.113.7', family: 4 }])
  for (const hostname of ['eight.test', 'seventy.test', 'six.test']) {
    t.match(await resolve(hostname), { code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', message: new RegExp(`resolves to ${answers[hostname]!.replaceAll('.', '\\.')},`) }, hostname)
  }
})
