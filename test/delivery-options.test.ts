import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import openapiCallbacks, { DEFAULT_SCHEDULE, createMemoryEngine } from '../lib/index.js'
import type { DeliveryOptions } from '../lib/index.js'
import { normaliseDeliveryOptions } from '../lib/delivery/options.js'
import { version } from '../package.json'

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`

test('the defaults: unsigned, https to public addresses only, Svix\'s schedule, bounded everything', async (t) => {
  const { engine, ...defaults } = normaliseDeliveryOptions()
  t.same(defaults, {
    secret: [],
    secretFor: undefined,
    headers: {},
    userAgent: `fastify-openapi-callbacks/${version}`,
    allowHttp: false,
    allow: [],
    lookup: undefined,
    schedule: [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
    jitter: 0.1,
    maxRetryAfter: 3_600_000,
    connectTimeout: 10_000,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
    attemptTimeout: 30_000,
    maxResponseSize: 65_536,
    concurrency: 64,
    closeGrace: 5_000,
    unknownKeyGrace: 600_000,
    deliver: true,
    onAttempt: undefined,
    onOutcome: undefined,
    onReceiverUnhealthy: undefined,
    onPending: undefined,
    isolation: { perReceiver: 8, failureThreshold: 5, coolDown: 30_000, maxCoolDown: 600_000, unhealthyAfter: 3_600_000, maxRetryAfter: 3_600_000, attemptTimeout: 30_000 }
  })
  t.same(DEFAULT_SCHEDULE, defaults.schedule)
  t.same(await engine.pending(), [], 'an empty memory engine')
  t.not(normaliseDeliveryOptions().engine, engine, 'one engine per registration')
})

test('given options are kept, secrets decoded', async (t) => {
  const engine = createMemoryEngine()
  const hook = () => {}
  const options = normaliseDeliveryOptions({
    secret: [SECRET, SECRET],
    allowHttp: true,
    allow: ['10.0.0.0/8'],
    schedule: [0, 10],
    jitter: 0,
    concurrency: 1,
    closeGrace: 0,
    engine,
    deliver: false,
    onAttempt: hook
  })
  t.same(options.secret, [Buffer.alloc(32, 1), Buffer.alloc(32, 1)])
  t.match(options, { allowHttp: true, allow: ['10.0.0.0/8'], schedule: [0, 10], jitter: 0, concurrency: 1, closeGrace: 0, onAttempt: hook })
  t.equal(options.engine, engine)
  t.equal(options.deliver, false)
  t.same(normaliseDeliveryOptions({ secret: SECRET }).secret, [Buffer.alloc(32, 1)])
  t.equal(options.isolation.perReceiver, 1, 'a receiver\'s share: an eighth of the concurrency, at least 1')
  t.equal(normaliseDeliveryOptions({ concurrency: 20 }).isolation.perReceiver, 3)
  t.match(normaliseDeliveryOptions({ isolation: { perReceiver: 20, coolDown: 5, maxCoolDown: 5 } }).isolation, { perReceiver: 20, coolDown: 5, maxCoolDown: 5, failureThreshold: 5 })
})

// each option's bad values: test/options.test.ts
test('a bad secret, a reserved header and a bad address policy fail registration with their own codes', async (t) => {
  const cases: Array<[DeliveryOptions, { code: string, message?: RegExp }]> = [
    [{ secret: 'hunter2' }, { code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET' }],
    [{ headers: { 'Webhook-Signature': 'v1,forged' } }, { code: 'FST_OPENAPI_CALLBACKS_RESERVED_HEADER', message: /the `delivery.headers` option: the header "Webhook-Signature" is set by the plugin/ }],
    // the address policy checks the entries of `allow`
    [{ allow: ['https://bad/entry'] }, { code: 'FST_OPENAPI_CALLBACKS_INVALID_ADDRESS_POLICY' }]
  ]
  for (const [delivery, fault] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(swagger, { openapi: { info: { title: 'T', version: '1.0.0' } } })
    app.register(openapiCallbacks, { delivery })
    await t.rejects(async () => { await app.ready() }, fault, JSON.stringify(delivery))
  }
})
