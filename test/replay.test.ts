import { test } from 'tap'
import type { Test } from 'tap'
import Fastify from 'fastify'
import { request } from 'undici'
import type { FastifyReply } from 'fastify'
import { webhookReceiver } from '../lib/index.js'
import type { ReplayStore, WebhookReceiverOptions } from '../lib/index.js'
import { newMessageId } from '../lib/delivery/message.js'
import { signWebhook } from '../lib/standard-webhooks/signing.js'

const KEY = Buffer.alloc(32, 0x05)
const SECRET = `whsec_${KEY.toString('base64')}`
const OTHER_KEY = Buffer.alloc(32, 0x06)
const BODY = '{"event":"paid"}'
const nowSeconds = (): number => Math.floor(Date.now() / 1000)

interface Signed { id: string, headers: Record<string, string> }
function sign (id = newMessageId(), timestamp = nowSeconds(), key = KEY): Signed {
  return { id, headers: { 'content-type': 'application/json', ...signWebhook([key], id, timestamp, BODY) } }
}

/** A receiver app; `handle` decides each answer. Returns what the handler saw. */
async function receiverApp (t: Test, options: Partial<WebhookReceiverOptions> = {}, handle?: (reply: FastifyReply, call: number) => unknown) {
  const logged: Array<Record<string, any>> = []
  let onLogged = (): void => {}
  const app = Fastify({
    logger: {
      level: 'error',
      stream: {
        write: (line: string) => {
          logged.push(JSON.parse(line))
          onLogged()
        }
      }
    }
  })
  const nextLog = () => new Promise<void>(resolve => { onLogged = resolve })
  const handled: Array<{ id: string, replay: boolean | undefined }> = []
  await app.register(async (scope) => {
    await scope.register(webhookReceiver, { secret: SECRET, ...options })
    scope.post('/hook', async (request, reply) => {
      handled.push({ id: request.headers['webhook-id'] as string, replay: request.webhookReplay })
      return handle === undefined ? { ok: true } : handle(reply, handled.length)
    })
  })
  t.teardown(() => app.close())
  // on the wire: a listening server, as in production, keeps the process up while a store call is pending
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  const post = async ({ headers }: Signed) => {
    const response = await request(`${origin}/hook`, { method: 'POST', headers, body: BODY })
    const answer = await response.body.json() as { code?: string, message?: string }
    return { statusCode: response.statusCode, code: answer.code, message: answer.message }
  }
  return { app, post, handled, logged, nextLog }
}

test('a message replayed within the tolerance is refused with 409, once its first delivery was accepted', async (t) => {
  const { post, handled } = await receiverApp(t)
  const message = sign()
  t.match(await post(message), { statusCode: 200 })
  for (let round = 0; round < 3; round++) {
    t.same(await post(message), {
      statusCode: 409,
      code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_REPLAYED',
      message: `The message "${message.id}" was already accepted within the tolerance: a replay, refused`
    }, `replay ${round + 1}`)
  }
  // the sender's retry carries the same id, signed again: it is the same message
  t.match(await post(sign(message.id, nowSeconds() - 10)), { statusCode: 409 }, 'the same id with another timestamp')
  t.match(await post(sign()), { statusCode: 200 }, 'another message')
  t.same(handled.map(({ replay }) => replay), [false, false], 'the handler ran once per message')
})

test('only a verified message spends its id: a forgery with a genuine id changes nothing', async (t) => {
  const { post, handled } = await receiverApp(t)
  const id = newMessageId()
  t.match(await post(sign(id, nowSeconds(), OTHER_KEY)), { statusCode: 401, code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH' })
  t.match(await post(sign(id, nowSeconds() - 3600)), { statusCode: 401, code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' })
  t.match(await post(sign(id)), { statusCode: 200 }, 'the genuine message is accepted')
  t.equal(handled.length, 1)
})

test('a handler that answers 429 or 5xx lets the id go, so that the sender\'s retry is accepted; other answers keep it', async (t) => {
  const answers = [503, 429, 500, 200, 422]
  const { post, handled } = await receiverApp(t, {}, (reply, call) => reply.code(answers[call - 1]!).send({ call }))
  const message = sign()
  for (const statusCode of [503, 429, 500, 200]) {
    t.match(await post(sign(message.id)), { statusCode }, `answered ${statusCode}`)
  }
  t.match(await post(message), { statusCode: 409 }, 'after the 2xx, a replay')
  const refused = sign()
  t.match(await post(refused), { statusCode: 422 })
  t.match(await post(refused), { statusCode: 409 }, 'a 4xx is not retried by senders: its id is kept')
  t.equal(handled.length, 5)
})

test('mode \'mark\' lets a replay through, marked, for the handler to skip', async (t) => {
  const { post, handled } = await receiverApp(t, { replay: { mode: 'mark' } })
  const message = sign()
  t.match(await post(message), { statusCode: 200 })
  t.match(await post(message), { statusCode: 200 })
  t.same(handled, [{ id: message.id, replay: false }, { id: message.id, replay: true }])
})

test('replay: false turns the protection off', async (t) => {
  const { post, handled } = await receiverApp(t, { replay: false })
  const message = sign()
  t.match(await post(message), { statusCode: 200 })
  t.match(await post(message), { statusCode: 200 })
  t.equal(handled.length, 2)
})

/** A store shared by several receivers, as Redis would be: `SET id 1 PX ttl NX` and `DEL id`. */
function sharedStore () {
  const held = new Map<string, number>()
  const calls: Array<[string, string, number?]> = []
  const store: ReplayStore = {
    async seen (id, ttlMs) {
      calls.push(['seen', id, ttlMs])
      if ((held.get(id) ?? 0) > Date.now()) return true
      held.set(id, Date.now() + ttlMs)
      return false
    },
    async forget (id) {
      calls.push(['forget', id])
      held.delete(id)
    }
  }
  return { store, calls }
}

test('a shared store refuses a replay sent to another receiver process, and keeps an id as long as its timestamp is accepted', async (t) => {
  const { store, calls } = sharedStore()
  const first = await receiverApp(t, { replay: { store }, toleranceSeconds: 100 })
  const second = await receiverApp(t, { replay: { store }, toleranceSeconds: 100 })
  const timestamp = nowSeconds() + 60 // a sender whose clock is a minute ahead
  const message = sign(newMessageId(), timestamp)
  const before = Date.now()
  t.match(await first.post(message), { statusCode: 200 })
  const after = Date.now()
  t.match(await second.post(message), { statusCode: 409, code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_REPLAYED' })
  const [, id, ttlMs] = calls[0]!
  t.equal(id, message.id)
  // accepted by the timestamp check until the clock reads timestamp + tolerance, to the second
  t.ok(ttlMs! > (timestamp + 100) * 1000 - after && ttlMs! <= (timestamp + 101) * 1000 - before, `ttl ${ttlMs} ms covers the tolerance past the timestamp`)
})

test('a store that throws, rejects, hangs or answers nonsense refuses the message with 503, and the handler never runs', async (t) => {
  const hostile: Array<[string, ReplayStore['seen'], RegExp]> = [
    ['throws', () => { throw new Error('redis down') }, /seen\(\) threw Error: redis down/],
    ['rejects', async () => { throw new Error('redis timeout') }, /seen\(\) threw Error: redis timeout/],
    ['rejects with a string', () => Promise.reject('nope'), /seen\(\) threw nope/], // eslint-disable-line prefer-promise-reject-errors
    ['hangs', () => new Promise<boolean>(() => {}), /seen\(\) did not settle within replay\.timeout \(50 ms\)/],
    ['answers undefined', () => undefined as unknown as boolean, /seen\(\) answered undefined, not a boolean/],
    ['answers a string', async () => 'OK' as unknown as boolean, /seen\(\) answered string, not a boolean/],
    ['answers 1', () => 1 as unknown as boolean, /seen\(\) answered number, not a boolean/]
  ]
  for (const [name, seen, message] of hostile) {
    const { post, handled } = await receiverApp(t, { replay: { store: { seen, forget: () => {} }, timeout: 50 } })
    const answer = await post(sign())
    t.match(answer, { statusCode: 503, code: 'FST_OPENAPI_CALLBACKS_REPLAY_STORE_UNAVAILABLE' }, name)
    t.match(answer.message, new RegExp(`^The replay store could not check the message: ${message.source}.*\\. The message is refused, so that the sender retries it$`), `${name}: the message`)
    t.equal(handled.length, 0, `${name}: the handler never ran`)
  }
})

test('a store that cannot let go of an id is logged; the answer is unchanged and nothing crashes', async (t) => {
  const failures: Array<[string, ReplayStore['forget']]> = [
    ['throws', () => { throw new Error('redis down') }],
    ['hangs', () => new Promise<void>(() => {})]
  ]
  for (const [name, forget] of failures) {
    const { post, logged, nextLog } = await receiverApp(t, { replay: { store: { seen: () => false, forget }, timeout: 50 } }, reply => reply.code(503).send({}))
    const logging = nextLog()
    t.match(await post(sign()), { statusCode: 503, code: undefined }, `${name}: the handler's own answer`)
    // the store is asked to let go once the answer is sent
    await logging
    t.match(logged, [{
      level: 50,
      msg: 'fastify-openapi-callbacks: the replay store could not let go of a message whose handler failed; its retry will be taken for a replay',
      err: { code: 'FST_OPENAPI_CALLBACKS_REPLAY_STORE_UNAVAILABLE' }
    }], name)
  }
})

test('the in-memory store is bounded: when full of ids still within the tolerance it refuses with 503, then frees expired ids', async (t) => {
  const { post, handled } = await receiverApp(t, { toleranceSeconds: 1, replay: { maxEntries: 2 } })
  // at the start of a clock second: the ids below are held until it ends, so the posts that need them held get all of it
  await new Promise(resolve => { setTimeout(resolve, 1000 - Date.now() % 1000) })
  // signed a second ago with a tolerance of one second: each id is held for less than a second
  const [first, second, third] = [sign(newMessageId(), nowSeconds() - 1), sign(newMessageId(), nowSeconds() - 1), sign()]
  t.match(await post(first!), { statusCode: 200 })
  t.match(await post(second!), { statusCode: 200 })
  const full = await post(third!)
  t.match(full, { statusCode: 503, code: 'FST_OPENAPI_CALLBACKS_REPLAY_STORE_UNAVAILABLE' })
  t.match(full.message, /the in-memory store holds its maximum of 2 message ids still within the tolerance \(replay\.maxEntries\)/)
  t.match(await post(first!), { statusCode: 409 }, 'a full store still refuses replays: it forgets no id early')
  // wait until the first two ids expired (never more than a second)
  await new Promise(resolve => { setTimeout(resolve, 1100) })
  t.match(await post(sign()), { statusCode: 200 }, 'expired ids made room')
  t.match(await post(sign()), { statusCode: 200 })
  t.equal(handled.length, 4)
})

test('an id signed ahead of the clock does not keep the ids after it from expiring: no 503 for a legitimate message', async (t) => {
  const { post, handled } = await receiverApp(t, { toleranceSeconds: 2, replay: { maxEntries: 2 } })
  const start = nowSeconds()
  // "ahead" is signed at the far end of the tolerance: held until start + 5 s; "now" until start + 3 s.
  // Each is accepted for 2 s: generous bounds for a slow machine
  const ahead = sign(newMessageId(), start + 2)
  t.match(await post(ahead), { statusCode: 200 })
  t.match(await post(sign(newMessageId(), start)), { statusCode: 200 })
  await new Promise(resolve => { setTimeout(resolve, (start + 3) * 1000 + 50 - Date.now()) })
  t.match(await post(sign()), { statusCode: 200 }, 'the expired id made room, though an id held longer came before it')
  t.equal(handled.length, 3)
})

// each option's bad values: test/options.test.ts
test('a bad secret stops the server from starting, with FST_OPENAPI_CALLBACKS_INVALID_SECRET', async (t) => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ secret: 42 }, 'INVALID_SECRET', /`secret` must be a whsec_ secret or an array of them/],
    [{ secret: undefined }, 'INVALID_SECRET', /`secret` must be/],
    [{ secret: [SECRET, 7] }, 'INVALID_SECRET', /not a string starting with "whsec_"/]
  ]
  for (const [options, code, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(async (scope) => {
      await scope.register(webhookReceiver, { secret: SECRET, ...options } as WebhookReceiverOptions)
    })
    await t.rejects(async () => { await app.ready() }, { code: `FST_OPENAPI_CALLBACKS_${code}`, statusCode: 500, message }, JSON.stringify(options) ?? String(options))
  }
})

test('receiver options that are not an object stop the server from starting', async (t) => {
  for (const options of ['strict', null]) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(async (scope) => {
      await scope.register(webhookReceiver, (() => options) as unknown as WebhookReceiverOptions)
    })
    await t.rejects(async () => { await app.ready() }, {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS',
      message: `Invalid webhook receiver option: the options must be an object, not ${options === null ? 'null' : "'strict'"}`
    }, String(options))
  }
})
