import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import openapiCallbacks, { DEFAULT_SCHEDULE, createMemoryEngine } from '../lib/index.js'
import { normaliseDeliveryOptions } from '../lib/delivery/options.js'
import { version } from '../package.json'

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`

test('the defaults: unsigned, https to public addresses only, Svix\'s schedule, bounded everything', async (t) => {
  const { engine, ...defaults } = normaliseDeliveryOptions()
  t.same(defaults, {
    secrets: [],
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
  t.same(options.secrets, [Buffer.alloc(32, 1), Buffer.alloc(32, 1)])
  t.match(options, { allowHttp: true, allow: ['10.0.0.0/8'], schedule: [0, 10], jitter: 0, concurrency: 1, closeGrace: 0, onAttempt: hook })
  t.equal(options.engine, engine)
  t.equal(options.deliver, false)
  t.same(normaliseDeliveryOptions({ secret: SECRET }).secrets, [Buffer.alloc(32, 1)])
  t.equal(options.isolation.perReceiver, 1, 'a receiver\'s share: an eighth of the concurrency, at least 1')
  t.equal(normaliseDeliveryOptions({ concurrency: 20 }).isolation.perReceiver, 3)
  t.match(normaliseDeliveryOptions({ isolation: { perReceiver: 20, coolDown: 5, maxCoolDown: 5 } }).isolation, { perReceiver: 20, coolDown: 5, maxCoolDown: 5, failureThreshold: 5 })
})

test('bad options fail registration with a typed error naming the option', async (t) => {
  const cases: Array<[unknown, string | RegExp]> = [
    ['fast', 'it must be an object'],
    [null, 'it must be an object'],
    [{ retries: 3 }, 'unknown option "retries"'],
    [{ jitter: 2 }, 'jitter must be a number from 0 to 1, not 2'],
    [{ jitter: '0.1' }, 'jitter must be a number from 0 to 1, not \'0.1\''],
    [{ concurrency: 0 }, 'concurrency must be an integer from 1 up, not 0'],
    [{ concurrency: 1.5 }, 'concurrency must be an integer from 1 up, not 1.5'],
    [{ headersTimeout: Number.NaN }, 'headersTimeout must be an integer from 1 up, not NaN'],
    [{ maxRetryAfter: -1 }, 'maxRetryAfter must be a number from 0 up, not -1'],
    [{ attemptTimeout: Infinity }, 'attemptTimeout must be an integer from 1 to 2147483647, not Infinity'],
    [{ attemptTimeout: 2 ** 31 }, 'attemptTimeout must be an integer from 1 to 2147483647, not 2147483648'],
    [{ attemptTimeout: '30s' }, 'attemptTimeout must be an integer from 1 to 2147483647, not \'30s\''],
    [{ onOutcome: 'log' }, 'onOutcome must be a function'],
    [{ onReceiverUnhealthy: true }, 'onReceiverUnhealthy must be a function'],
    [{ isolation: 8 }, 'isolation must be an object'],
    [{ isolation: { share: 8 } }, 'unknown option "isolation.share"'],
    [{ isolation: { perReceiver: 0 } }, 'isolation.perReceiver must be an integer from 1 up, not 0'],
    [{ isolation: { coolDown: 2 ** 31 } }, 'isolation.coolDown must be an integer from 1 to 2147483647, not 2147483648'],
    [{ isolation: { coolDown: 2_000, maxCoolDown: 1_000 } }, 'isolation.maxCoolDown must be at least isolation.coolDown (2000), not 1000'],
    [{ lookup: {} }, 'lookup must be a function'],
    [{ allowHttp: 'yes' }, 'allowHttp must be a boolean'],
    [{ allow: '127.0.0.1' }, 'allow must be an array of hosts, IP addresses and CIDR ranges'],
    [{ schedule: [] }, /^schedule must be a non-empty array/],
    [{ schedule: '0,5' }, /^schedule must be a non-empty array/],
    [{ schedule: [0, -5] }, /^schedule must be a non-empty array/],
    [{ schedule: [0, Infinity] }, /^schedule must be a non-empty array/],
    [{ schedule: [0, '5s'] }, /^schedule must be a non-empty array/],
    [{ deliver: 'no' }, 'deliver must be a boolean'],
    [{ secretFor: 'whsec_x' }, 'secretFor must be a function'],
    [{ userAgent: '' }, 'userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them'],
    [{ userAgent: 'a\r\nx-injected: 1' }, 'userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them'],
    [{ userAgent: 7 }, 'userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them'],
    [{ userAgent: 'Łódź/1' }, 'userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them'],
    [{ userAgent: 'café/1' }, 'userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them'],
    [{ userAgent: 'acme/1 ' }, 'userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them'],
    [{ headers: 'x-a: 1' }, 'headers must be an object of header names and values'],
    [{ headers: { 'x a': '1' } }, 'the header name "x a" is not an HTTP token'],
    [{ headers: { 'x-a': 'one\ntwo' } }, 'the header "x-a" must be a string, a finite number or a boolean, of visible ASCII characters, with spaces or tabs only between them (encode other text, with encodeURIComponent for one)'],
    [{ headers: { 'x-a': 'Łódź' } }, 'the header "x-a" must be a string, a finite number or a boolean, of visible ASCII characters, with spaces or tabs only between them (encode other text, with encodeURIComponent for one)'],
    [{ headers: { 'x-a': 'key\x7f' } }, 'the header "x-a" must be a string, a finite number or a boolean, of visible ASCII characters, with spaces or tabs only between them (encode other text, with encodeURIComponent for one)'],
    [{ headers: { 'x-a': '1', 'X-A': '2' } }, 'the header "x-a" is given twice'],
    [{ unknownKeyGrace: -1 }, 'unknownKeyGrace must be a number from 0 up, not -1'],
    [{ store: new Map() }, 'unknown option "store"'],
    [{ engine: new Map() }, 'engine must implement open, add, work, close, pending, as createMemoryEngine() and the BullMQ engine do'],
    [{ engine: null }, 'engine must implement open, add, work, close, pending, as createMemoryEngine() and the BullMQ engine do']
  ]
  for (const [delivery, fault] of cases) {
    t.throws(() => normaliseDeliveryOptions(delivery as any), {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_DELIVERY_OPTIONS',
      message: typeof fault === 'string' ? `Invalid \`delivery\` option: ${fault}` : new RegExp(fault.source.replace('^', '^Invalid `delivery` option: '))
    }, JSON.stringify(delivery))
  }
  t.throws(() => normaliseDeliveryOptions({ secret: 'hunter2' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET' })
  t.throws(() => normaliseDeliveryOptions({ headers: { 'Webhook-Signature': 'v1,forged' } }), { code: 'FST_OPENAPI_CALLBACKS_RESERVED_HEADER', message: /the `delivery.headers` option: the header "Webhook-Signature" is set by the plugin/ })

  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'T', version: '1.0.0' } } })
  app.register(openapiCallbacks, { delivery: { allow: ['https://bad/entry'] } })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_OPENAPI_CALLBACKS_INVALID_ADDRESS_POLICY' }, 'the address policy checks `allow`')
})
