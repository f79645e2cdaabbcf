import { test } from 'tap'
import type { Test } from 'tap'
import { inspect } from 'node:util'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Redis } from 'ioredis'
import openapiCallbacks, { createMemoryEngine, verifyWebhook, webhookReceiver } from '../lib/index.js'
import type { DeliveryOptions, DocumentOptions, FastifyOpenapiCallbacksOptions, MemoryEngineOptions, ReplayOptions, VerifyOptions, WebhookReceiverOptions } from '../lib/index.js'
import { bullmqEngine } from '../lib/bullmq.js'
import type { BullmqEngineOptions } from '../lib/bullmq.js'
import { loopbackApp } from './helpers.js'
import { startReceiver } from './receivers.js'

// Every options object is checked once by one checker: each bad value below must fail through the public API with
// the object's own code and a message that names the option's path and the value given.
const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`
const PAST_TIMER = 2 ** 31 // setTimeout fires at once for this wait
const LONGEST = 2 ** 31 - 1

type Case = [value: unknown, message: RegExp]
/** Bad values for every documented option: the type makes a new option need its row. */
type Table<T> = { readonly [K in keyof Required<T>]: readonly Case[] }

const escape = (text: string): RegExp => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
/** `path must be <expected>, not <value>`, the value as given */
const refused = (path: string, value: unknown, expected = '.+'): Case =>
  [value, new RegExp(`${escape(path).source} must be ${expected}, not ${escape(inspect(value, { depth: 0, breakLength: Infinity })).source}$`)]
const wrongType = (path: string, ...values: unknown[]): Case[] => values.map(value => refused(path, value))

/** What every timer option refuses: not a number, past the longest timer, infinite, NaN, below its least, a fraction. */
function durations (path: string, { min = 1, integer = true } = {}): Case[] {
  const expected = `${integer ? 'an integer' : 'a number'} of milliseconds from ${min} to ${LONGEST} \\(the longest timer\\)`
  return [PAST_TIMER, Infinity, -Infinity, Number.NaN, min - 1, '10s', null, ...(integer ? [1.5] : [])].map(value => refused(path, value, expected))
}
const numbers = (path: string, min: number, max: number, integer: boolean, ...extra: number[]): Case[] =>
  [min - 1, Infinity, Number.NaN, '1', ...(max === Number.MAX_SAFE_INTEGER ? [] : [max + 0.5]), ...(integer ? [min + 0.5] : []), ...extra]
    .map(value => refused(path, value, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`))

const delivery: Table<DeliveryOptions> = {
  secret: [[42, /INVALID_SECRET/], ['hunter2', /INVALID_SECRET/], [[SECRET, 7], /INVALID_SECRET/]],
  secretFor: wrongType('delivery.secretFor', SECRET, {}),
  headers: [[{ 'x a': '1' }, /the header name "x a" is not an HTTP token/], [{ 'x-a': 'one\ntwo' }, /the header "x-a" must be/], ['x-a: 1', /headers must be an object/]],
  userAgent: wrongType('delivery.userAgent', '', 'a\r\nx-injected: 1', 7, 'Łódź/1', 'café/1', 'acme/1 '),
  allowHttp: wrongType('delivery.allowHttp', 'yes', 1),
  allow: [...wrongType('delivery.allow', '127.0.0.1'), [[7], refused('delivery.allow[0]', 7)[1]], [['127.0.0.1', undefined], refused('delivery.allow[1]', undefined)[1]]],
  lookup: wrongType('delivery.lookup', {}),
  schedule: [...wrongType('delivery.schedule', [], '0,5'), ...durations('delivery.schedule[1]', { min: 0, integer: false }).map(([value, message]): Case => [[0, value], message])],
  jitter: numbers('delivery.jitter', 0, 1, false, 2),
  maxRetryAfter: durations('delivery.maxRetryAfter', { min: 0, integer: false }),
  connectTimeout: durations('delivery.connectTimeout'),
  headersTimeout: durations('delivery.headersTimeout'),
  bodyTimeout: durations('delivery.bodyTimeout'),
  attemptTimeout: durations('delivery.attemptTimeout'),
  maxResponseSize: numbers('delivery.maxResponseSize', 1, Number.MAX_SAFE_INTEGER, true),
  concurrency: numbers('delivery.concurrency', 1, Number.MAX_SAFE_INTEGER, true),
  isolation: [
    ...wrongType('delivery.isolation', 8, null, []),
    [{ share: 8 }, /unknown option "delivery\.isolation\.share"/],
    ...numbers('delivery.isolation.perReceiver', 1, Number.MAX_SAFE_INTEGER, true).map(([value, message]): Case => [{ perReceiver: value }, message]),
    ...numbers('delivery.isolation.failureThreshold', 1, Number.MAX_SAFE_INTEGER, true).map(([value, message]): Case => [{ failureThreshold: value }, message]),
    ...durations('delivery.isolation.coolDown').map(([value, message]): Case => [{ coolDown: value }, message]),
    ...durations('delivery.isolation.maxCoolDown').map(([value, message]): Case => [{ maxCoolDown: value }, message]),
    ...durations('delivery.isolation.unhealthyAfter', { min: 0, integer: false }).map(([value, message]): Case => [{ unhealthyAfter: value }, message]),
    [{ coolDown: 2_000, maxCoolDown: 1_000 }, /isolation\.maxCoolDown must be at least isolation\.coolDown \(2000\), not 1000$/]
  ],
  closeGrace: durations('delivery.closeGrace', { min: 0, integer: false }),
  unknownKeyGrace: durations('delivery.unknownKeyGrace', { min: 0, integer: false }),
  engine: wrongType('delivery.engine', new Map(), null, { open () {} }),
  deliver: wrongType('delivery.deliver', 'no'),
  onAttempt: wrongType('delivery.onAttempt', 'log'),
  onOutcome: wrongType('delivery.onOutcome', true),
  onReceiverUnhealthy: wrongType('delivery.onReceiverUnhealthy', true),
  onPending: wrongType('delivery.onPending', [])
}

const document: Table<DocumentOptions> = {
  signature: wrongType('document.signature', 'no', 0),
  sharedCallbacks: wrongType('document.sharedCallbacks', 1)
}

const plugin: Table<FastifyOpenapiCallbacksOptions> = {
  decorator: wrongType('decorator', 42, '', [''], ['swagger', 7], {}),
  delivery: wrongType('delivery', 'fast', null, []),
  document: wrongType('document', false)
}

/** `register(plugin, options)` then `ready()`: its error, or undefined once ready. */
async function registered (t: Test, options: unknown): Promise<unknown> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger, { openapi: { info: { title: 'T', version: '1.0.0' } } })
  app.register(openapiCallbacks, options as FastifyOpenapiCallbacksOptions)
  return await app.ready().then(() => undefined, (error: unknown) => error)
}

test('the plugin\'s options: every bad value of every option fails registration, with the object\'s code and the path', async (t) => {
  // the `delivery` option has its own code, even for its own type
  const codeOf = (key: string): string => `FST_OPENAPI_CALLBACKS_INVALID_${key === 'delivery' ? 'DELIVERY_' : ''}OPTIONS`
  const groups: Array<[Record<string, readonly Case[]>, (value: unknown, key: string) => unknown, string | undefined]> = [
    [plugin, (value, key) => ({ [key]: value }), undefined],
    [delivery, (value, key) => ({ delivery: { [key]: value } }), 'delivery'],
    [document, (value, key) => ({ document: { [key]: value } }), 'document']
  ]
  for (const [table, options, parent] of groups) {
    for (const [key, cases] of Object.entries(table)) {
      const code = codeOf(parent ?? key)
      t.ok(cases.length > 0, `${key} has bad values`)
      for (const [value, message] of cases) {
        const fault = await registered(t, options(value, key))
        const expected = message.source.startsWith('INVALID_SECRET') ? { code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET' } : { code, message }
        t.match(fault, expected, `${key}: ${inspect(value, { depth: 1 })}`)
      }
    }
  }
})

test('an unknown option fails registration at every level, with a hint where it belongs one level down', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ secret: SECRET }, 'INVALID_OPTIONS', /^Invalid fastify-openapi-callbacks option: unknown option "secret": did you mean delivery\.secret\?$/],
    [{ headersTimeout: 1000 }, 'INVALID_OPTIONS', /unknown option "headersTimeout": did you mean delivery\.headersTimeout\?$/],
    [{ signature: false }, 'INVALID_OPTIONS', /unknown option "signature": did you mean document\.signature\?$/],
    [{ decorators: ['swagger'] }, 'INVALID_OPTIONS', /unknown option "decorators": the options take decorator, delivery, document$/],
    [{ delivery: { retries: 3 } }, 'INVALID_DELIVERY_OPTIONS', /^Invalid `delivery` option: unknown option "delivery\.retries": delivery takes secret, secretFor, headers, .*, onPending$/],
    [{ delivery: { store: new Map() } }, 'INVALID_DELIVERY_OPTIONS', /unknown option "delivery\.store"/],
    [{ document: { signatures: false } }, 'INVALID_OPTIONS', /unknown option "document\.signatures": document takes signature, sharedCallbacks$/],
    [{ document: { ['__proto__']: false } }, 'INVALID_OPTIONS', /unknown option "document\.__proto__"/]
  ]
  for (const [options, code, message] of cases) {
    t.match(await registered(t, options), { code: `FST_OPENAPI_CALLBACKS_${code}`, message }, inspect(options))
  }
  t.equal(await registered(t, { prefix: '/ignored', logLevel: 'info' }), undefined, 'Fastify\'s own register options pass')
})

test('options are read as own properties only: a prototype or a class cannot supply one', async (t) => {
  class Options {
    get delivery (): unknown { return { headersTimeout: PAST_TIMER } }
    get decorator (): unknown { return 42 }
  }
  t.equal(await registered(t, new Options()), undefined, 'the getters on the class\'s prototype are not read')
  t.equal(await registered(t, Object.create({ secret: SECRET, delivery: { retries: 3 } })), undefined, 'nor an inherited key')
  t.equal(await registered(t, { delivery: Object.create({ closeGrace: Infinity }) }), undefined, 'nor one inherited by a nested object')
})

test('a timer option past the longest timer fails registration; the longest is kept and works', async (t) => {
  t.match(await registered(t, { delivery: { headersTimeout: PAST_TIMER } }), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DELIVERY_OPTIONS',
    message: 'Invalid `delivery` option: delivery.headersTimeout must be an integer of milliseconds from 1 to 2147483647 (the longest timer), not 2147483648'
  })
  t.match(await registered(t, { delivery: { closeGrace: Infinity } }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DELIVERY_OPTIONS', message: /closeGrace must be .*, not Infinity$/ })

  // the secret resolver is bounded by headersTimeout: at the longest timer it waits for a slow resolver as it should
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { app } = await loopbackApp({
    headersTimeout: LONGEST,
    secretFor: async () => { await new Promise(resolve => setTimeout(resolve, 100)); return SECRET }
  })
  t.teardown(() => app.close())
  const signed = app.webhooks.post('signed')
  await app.ready()
  t.match(await app.callbacks.send(signed, receiver.origin, undefined, { subscriber: 's1' }), { outcome: 'delivered' })
  t.match(receiver.received[0]?.headers['webhook-signature'], /^v1,/)
})

test('every documented option of the plugin is accepted', async (t) => {
  const client = new Redis({ lazyConnect: true })
  t.teardown(() => client.disconnect())
  const everyDelivery: Required<DeliveryOptions> = {
    secret: [SECRET, SECRET],
    secretFor: () => SECRET,
    headers: { 'x-tenant': 'a', 'x-n': 1, 'x-on': true },
    userAgent: 'app/1',
    allowHttp: true,
    allow: ['127.0.0.1', '10.0.0.0/8', 'hooks.test'],
    lookup: (_hostname, _options, callback) => { callback(null, '127.0.0.1', 4) },
    schedule: [0, LONGEST],
    jitter: 1,
    maxRetryAfter: LONGEST,
    connectTimeout: LONGEST,
    headersTimeout: LONGEST,
    bodyTimeout: 1,
    attemptTimeout: LONGEST,
    maxResponseSize: 1,
    concurrency: 1,
    isolation: { perReceiver: 1, failureThreshold: 1, coolDown: 1, maxCoolDown: LONGEST, unhealthyAfter: 0 },
    closeGrace: 0,
    unknownKeyGrace: 0,
    engine: createMemoryEngine({ maxPending: 1 }),
    deliver: false,
    onAttempt: () => {},
    onOutcome: () => {},
    onReceiverUnhealthy: () => {},
    onPending: () => {}
  }
  const everyDocument: Required<DocumentOptions> = { signature: false, sharedCallbacks: true }
  const every: Required<FastifyOpenapiCallbacksOptions> = { decorator: ['swagger'], delivery: everyDelivery, document: everyDocument }
  t.equal(await registered(t, every), undefined)
  t.equal(await registered(t, { decorator: 'swagger', delivery: {}, document: {} }), undefined, 'empty groups take the defaults')
  t.equal(await registered(t, { delivery: { secret: SECRET, engine: undefined, headersTimeout: undefined } }), undefined, 'undefined is the default')
})

test('createMemoryEngine(): every bad option throws FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', async (t) => {
  const table: Table<MemoryEngineOptions> = {
    maxPending: numbers('maxPending', 1, Number.MAX_SAFE_INTEGER, true),
    maxPendingPerReceiver: numbers('maxPendingPerReceiver', 1, Number.MAX_SAFE_INTEGER, true),
    clock: wrongType('clock', 'system', { now: () => 0 })
  }
  for (const [key, cases] of Object.entries(table)) {
    for (const [value, message] of cases) {
      t.throws(() => createMemoryEngine({ [key]: value }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', message }, `${key}: ${inspect(value)}`)
    }
  }
  t.throws(() => createMemoryEngine({ max: 5 } as never), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', message: /unknown option "max": the options take maxPending, maxPendingPerReceiver, clock$/ })
  const every: Required<MemoryEngineOptions> = { maxPending: 1, maxPendingPerReceiver: 1, clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} } }
  t.doesNotThrow(() => createMemoryEngine(every))
})

test('bullmqEngine(): every bad option throws FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', async (t) => {
  const connection = 'redis://127.0.0.1:6379'
  const table: Table<BullmqEngineOptions> = {
    connection: [refused('connection', undefined), ...wrongType('connection', 6379, null, true)],
    queueName: wrongType('queueName', '', 'a b', 7),
    prefix: wrongType('prefix', 'a:b'),
    keep: [...wrongType('keep', 1, []), ...numbers('keep.failed', 1, Number.MAX_SAFE_INTEGER, true).map(([value, message]): Case => [{ failed: value }, message])],
    lockDuration: durations('lockDuration'),
    stalledInterval: durations('stalledInterval'),
    maxStalledCount: numbers('maxStalledCount', 1, Number.MAX_SAFE_INTEGER, true),
    unknownKeyLimit: durations('unknownKeyLimit'),
    timeout: durations('timeout'),
    recordRetryDelay: durations('recordRetryDelay')
  }
  for (const [key, cases] of Object.entries(table)) {
    for (const [value, message] of cases) {
      t.throws(() => bullmqEngine({ connection, [key]: value } as BullmqEngineOptions), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', message }, `${key}: ${inspect(value)}`)
    }
  }
  for (const [options, message] of [
    [undefined, /^Invalid delivery engine option: connection must be .*, not undefined$/],
    ['redis://', /^Invalid delivery engine option: the options must be an object, not 'redis:\/\/'$/],
    [{ connection, retries: 3 }, /unknown option "retries": the options take connection, queueName, .*, recordRetryDelay$/],
    [{ connection, completed: 1 }, /unknown option "completed": did you mean keep\.completed\?$/],
    [{ connection, keep: { completed: 1000, waiting: 1 } }, /unknown option "keep\.waiting": keep takes completed, failed$/]
  ] as const) {
    t.throws(() => bullmqEngine(options as never), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', message }, inspect(options))
  }
  const client = new Redis({ lazyConnect: true })
  t.teardown(() => client.disconnect())
  const every: Required<BullmqEngineOptions> = {
    connection: client,
    queueName: 'q.1',
    prefix: 'p-1',
    keep: { completed: 1, failed: Number.MAX_SAFE_INTEGER },
    lockDuration: LONGEST,
    stalledInterval: 1,
    maxStalledCount: 1,
    unknownKeyLimit: LONGEST,
    timeout: LONGEST,
    recordRetryDelay: 1
  }
  t.doesNotThrow(() => bullmqEngine(every), 'every documented option, at its bounds')
})

test('webhookReceiver: every bad option stops the server from starting, with FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS', async (t) => {
  const replay: Table<ReplayOptions> = {
    mode: wrongType('replay.mode', 'skip', true),
    store: wrongType('replay.store', {}, { seen: () => false }, 'redis'),
    maxEntries: numbers('replay.maxEntries', 1, Number.MAX_SAFE_INTEGER, true),
    timeout: durations('replay.timeout')
  }
  const receiver: Table<WebhookReceiverOptions> = {
    secret: [[42, /INVALID_SECRET/], [[], /INVALID_SECRET/], ['hunter2', /INVALID_SECRET/]],
    toleranceSeconds: numbers('toleranceSeconds', 0, 86_400, true, 86_401),
    replay: [
      ...wrongType('replay', 'on', null, 1),
      ...Object.entries(replay).flatMap(([key, cases]) => cases.map(([value, message]): Case => [{ [key]: value }, message])),
      [{ store: { seen: () => false, forget: () => {} }, maxEntries: 10 }, /replay\.maxEntries bounds the in-memory store only/]
    ]
  }
  const start = async (options: unknown): Promise<unknown> => {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(async scope => { await scope.register(webhookReceiver, options as WebhookReceiverOptions) })
    return await app.ready().then(() => undefined, (error: unknown) => error)
  }
  for (const [key, cases] of Object.entries(receiver)) {
    for (const [value, message] of cases) {
      const expected = message.source === 'INVALID_SECRET' ? { code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET' } : { code: 'FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS', statusCode: 500, message }
      t.match(await start({ secret: SECRET, [key]: value }), expected, `${key}: ${inspect(value)}`)
    }
  }
  for (const [options, message] of [
    [{ secret: SECRET, tolerance: 300 }, /unknown option "tolerance": the options take secret, toleranceSeconds, replay$/],
    [{ secret: SECRET, mode: 'mark' }, /unknown option "mode": did you mean replay\.mode\?$/],
    [{ secret: SECRET, replay: { ttl: 5 } }, /unknown option "replay\.ttl": replay takes mode, store, maxEntries, timeout$/]
  ] as const) {
    t.match(await start(options), { code: 'FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS', message }, inspect(options))
  }
  const every: Required<WebhookReceiverOptions> = { secret: [SECRET], toleranceSeconds: 86_400, replay: true }
  const everyReplay: Required<ReplayOptions> = { mode: 'mark', store: { seen: async () => false, forget: async () => {} }, maxEntries: 1, timeout: LONGEST }
  const { maxEntries, ...withStore } = everyReplay
  for (const options of [every, { ...every, replay: false }, { ...every, replay: withStore }, { ...every, replay: { maxEntries } }, { secret: SECRET, prefix: '/hooks', logLevel: 'warn' }]) {
    t.equal(await start(options), undefined, inspect(options, { depth: 1 }))
  }
})

test('verifyWebhook: every bad option throws FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS before any check', async (t) => {
  const table: Table<VerifyOptions> = {
    toleranceSeconds: numbers('toleranceSeconds', 0, 86_400, true),
    now: numbers('now', 0, Number.MAX_SAFE_INTEGER, false)
  }
  for (const [key, cases] of Object.entries(table)) {
    for (const [value, message] of cases) {
      t.throws(() => verifyWebhook([Buffer.alloc(32, 1)], {}, '', { [key]: value }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS', message }, `${key}: ${inspect(value)}`)
    }
  }
  t.throws(() => verifyWebhook([Buffer.alloc(32, 1)], {}, '', { tolerance: 5 } as never), { message: /unknown option "tolerance": the options take toleranceSeconds, now$/ })
  const every: Required<VerifyOptions> = { toleranceSeconds: 0, now: 0 }
  t.throws(() => verifyWebhook([Buffer.alloc(32, 1)], {}, '', every), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_MISSING' }, 'good options reach the headers\' check')
})
