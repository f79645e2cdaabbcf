import { test } from 'tap'
import { inspect } from 'node:util'
import { Webhook } from 'standardwebhooks'
import fc from 'fast-check'
import { newMessageId } from '../lib/delivery/message.js'
import { parseSecret, signWebhook, verifyWebhook } from '../lib/standard-webhooks/signing.js'

const KEY_A = Buffer.alloc(32, 0xa1)
const KEY_B = Buffer.alloc(48, 0xb2)
const SECRET_A = `whsec_${KEY_A.toString('base64')}`
const SECRET_B = `whsec_${KEY_B.toString('base64')}`
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'
const TIMESTAMP = 1674087231
const BODY = '{"type":"invoice.paid","data":{"id":"inv_1","amount":42}}'

function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

function withHeader (name: string, value: string | string[] | undefined): Record<string, string | string[] | undefined> {
  return { ...signWebhook([KEY_A], ID, TIMESTAMP, BODY), [name]: value }
}

test('newMessageId gives distinct msg_ ids that are safe to sign', async (t) => {
  const ids = new Set(Array.from({ length: 100 }, newMessageId))
  t.equal(ids.size, 100)
  for (const id of ids) {
    t.match(id, /^msg_[0-9a-f-]{36}$/)
    signWebhook([KEY_A], id, TIMESTAMP, BODY)
  }
})

test('parseSecret decodes whsec_ secrets of 24 to 64 bytes', async (t) => {
  t.same(parseSecret(SECRET_A), KEY_A)
  t.same(parseSecret(SECRET_B), KEY_B)
  for (const length of [24, 64]) {
    const key = Buffer.alloc(length, 7)
    t.same(parseSecret(`whsec_${key.toString('base64')}`), key, `${length} bytes`)
  }
})

test('parseSecret rejects bad secrets with a reason and without quoting them', async (t) => {
  const key32 = KEY_A.toString('base64')
  const cases: Array<[string, unknown, RegExp]> = [
    ['no prefix', key32, /not a string starting with "whsec_"/],
    ['another prefix', `whsk_${key32}`, /not a string starting with "whsec_"/],
    ['not a string', undefined, /not a string starting with "whsec_"/],
    ['too short', `whsec_${Buffer.alloc(23, 1).toString('base64')}`, /the key is 23 bytes long/],
    ['too long', `whsec_${Buffer.alloc(65, 1).toString('base64')}`, /the key is 65 bytes long/],
    ['empty key', 'whsec_', /the key is 0 bytes long/],
    ['not base64', 'whsec_this is not base64!!', /not padded base64/],
    ['base64url alphabet', `whsec_${Buffer.alloc(33, 0xfb).toString('base64url')}`, /not padded base64/],
    ['missing padding', `whsec_${key32.replace(/=+$/, '')}`, /not padded base64/]
  ]
  for (const [name, secret, reason] of cases) {
    const error = t.throws(() => parseSecret(secret as string), {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET',
      statusCode: 500,
      message: reason
    }, name) as Error
    t.match(error.message, /Use "whsec_" followed by the padded base64 of a random 24 to 64-byte key/, name)
    if (typeof secret === 'string' && secret.length > 'whsec_'.length) {
      t.notOk(error.message.includes(secret.slice(6)), `${name}: the secret stays out of the message`)
    }
  }
})

test('signWebhook matches the Standard Webhooks test vector', async (t) => {
  const key = parseSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
  t.same(signWebhook([key], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'), {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
  })
})

test('a signed message verifies, from a string or a Buffer body', async (t) => {
  const headers = signWebhook([KEY_A], ID, TIMESTAMP, BODY)
  t.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/)
  verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP })
  verifyWebhook([KEY_A], headers, Buffer.from(BODY), { now: TIMESTAMP })
  t.same(signWebhook([KEY_A], ID, TIMESTAMP, Buffer.from(BODY)), headers)
  // The system clock is the default
  verifyWebhook([KEY_A], signWebhook([KEY_A], ID, nowSeconds(), BODY), BODY)
})

test('signWebhook refuses input that would make an ambiguous signature', async (t) => {
  for (const id of ['', 'msg_1.2']) {
    t.throws(() => signWebhook([KEY_A], id, TIMESTAMP, BODY), {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_SIGNING_INPUT',
      statusCode: 500,
      message: `the message id "${id}" must be non-empty and free of "."`
    })
  }
  for (const timestamp of [1.5, -1, Number.NaN, Date.now() * 1e6]) {
    t.throws(() => signWebhook([KEY_A], ID, timestamp, BODY), {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_SIGNING_INPUT',
      message: /is not a whole number of Unix seconds/
    }, String(timestamp))
  }
})

test('without any secret, nothing is signed or verified', async (t) => {
  const expected = { code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET', statusCode: 500, message: /none was given/ }
  t.throws(() => signWebhook([], ID, TIMESTAMP, BODY), expected)
  t.throws(() => verifyWebhook([], signWebhook([KEY_A], ID, TIMESTAMP, BODY), BODY, { now: TIMESTAMP }), expected)
})

test('interop: the standardwebhooks package verifies our signatures', async (t) => {
  const timestamp = nowSeconds()
  const headers = signWebhook([KEY_A], ID, timestamp, BODY)
  t.same(new Webhook(SECRET_A).verify(BODY, { ...headers }), JSON.parse(BODY))
  t.throws(() => new Webhook(SECRET_B).verify(BODY, { ...headers }), { message: 'No matching signature found' })

  // During a key rotation the package verifies with either secret
  const rotating = signWebhook([KEY_A, KEY_B], ID, timestamp, BODY)
  t.same(new Webhook(SECRET_A).verify(BODY, { ...rotating }), JSON.parse(BODY))
  t.same(new Webhook(SECRET_B).verify(BODY, { ...rotating }), JSON.parse(BODY))
})

test('interop: we verify the standardwebhooks package signatures', async (t) => {
  const date = new Date()
  const timestamp = Math.floor(date.getTime() / 1000)
  const headers = {
    'webhook-id': ID,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new Webhook(SECRET_A).sign(ID, date, BODY)
  }
  verifyWebhook([KEY_A], headers, BODY)
  verifyWebhook([KEY_B, KEY_A], headers, BODY, { now: timestamp })
  t.throws(() => verifyWebhook([KEY_B], headers, BODY), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH' })
  t.throws(() => verifyWebhook([KEY_A], headers, `${BODY} `), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH' })
})

test('key rotation: two secrets give two entries, and either secret verifies', async (t) => {
  const headers = signWebhook([KEY_A, KEY_B], ID, TIMESTAMP, BODY)
  const entries = headers['webhook-signature'].split(' ')
  t.equal(entries.length, 2)
  t.equal(entries[0], signWebhook([KEY_A], ID, TIMESTAMP, BODY)['webhook-signature'])
  t.equal(entries[1], signWebhook([KEY_B], ID, TIMESTAMP, BODY)['webhook-signature'])
  verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP })
  verifyWebhook([KEY_B], headers, BODY, { now: TIMESTAMP })
  // A receiver that holds both secrets accepts a message signed with either one
  verifyWebhook([KEY_A, KEY_B], signWebhook([KEY_B], ID, TIMESTAMP, BODY), BODY, { now: TIMESTAMP })
  t.throws(() => verifyWebhook([Buffer.alloc(32, 0xcc)], headers, BODY, { now: TIMESTAMP }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH'
  })
})

test('anything changed after signing is a mismatch', async (t) => {
  const headers = signWebhook([KEY_A], ID, TIMESTAMP, BODY)
  const mismatch = {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH',
    statusCode: 401,
    message: 'No v1 signature matches the body with any configured secret: the body was altered, or the sender uses another secret'
  }
  t.throws(() => verifyWebhook([KEY_A], headers, BODY.replace('42', '43'), { now: TIMESTAMP }), mismatch, 'body')
  t.throws(() => verifyWebhook([KEY_A], headers, '', { now: TIMESTAMP }), mismatch, 'empty body')
  t.throws(() => verifyWebhook([KEY_B], headers, BODY, { now: TIMESTAMP }), mismatch, 'secret')
  t.throws(() => verifyWebhook([KEY_A], { ...headers, 'webhook-id': 'msg_other' }, BODY, { now: TIMESTAMP }), mismatch, 'id')
  t.throws(() => verifyWebhook([KEY_A], { ...headers, 'webhook-timestamp': String(TIMESTAMP + 1) }, BODY, { now: TIMESTAMP }),
    mismatch, 'timestamp')
  // Well formed, but computed by nobody
  const forged = { ...headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` }
  t.throws(() => verifyWebhook([KEY_A], forged, BODY, { now: TIMESTAMP }), mismatch, 'zero signature')
})

test('timestamps beyond the tolerance are refused, both ways', async (t) => {
  const headers = signWebhook([KEY_A], ID, TIMESTAMP, BODY)
  verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP + 300 })
  verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP - 300 })
  t.throws(() => verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP + 301 }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
    statusCode: 401,
    message: 'The webhook-timestamp is 301 seconds in the past, beyond the tolerance of 300 seconds: a replay, or a clock out of sync'
  })
  t.throws(() => verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP - 3600 }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
    message: /is 3600 seconds in the future, beyond the tolerance of 300 seconds/
  })
  t.throws(() => verifyWebhook([KEY_A], headers, BODY, { now: TIMESTAMP + 11, toleranceSeconds: 10 }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
    message: /is 11 seconds in the past, beyond the tolerance of 10 seconds/
  })
  // Checked before the signature: a stale replay of a genuine message is refused
  t.throws(() => verifyWebhook([KEY_A], signWebhook([KEY_A], ID, nowSeconds() - 301, BODY), BODY), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE'
  })
})

test('each missing header is named', async (t) => {
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    for (const value of [undefined, '']) {
      t.throws(() => verifyWebhook([KEY_A], withHeader(name, value), BODY, { now: TIMESTAMP }), {
        code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_MISSING',
        statusCode: 401,
        message: `Missing "${name}" header: a Standard Webhooks request carries webhook-id, webhook-timestamp and webhook-signature`
      }, `${name}: ${JSON.stringify(value)}`)
    }
  }
})

test('repeated headers and timestamps that are not integers are invalid', async (t) => {
  const signature = signWebhook([KEY_A], ID, TIMESTAMP, BODY)['webhook-signature']
  t.throws(() => verifyWebhook([KEY_A], withHeader('webhook-signature', [signature, signature]), BODY, { now: TIMESTAMP }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_INVALID',
    statusCode: 401,
    message: 'Invalid "webhook-signature" header: it was given 2 times'
  })
  for (const timestamp of ['1674087231.5', '-1674087231', '1674087231000ms', ' 1674087231', 'now']) {
    t.throws(() => verifyWebhook([KEY_A], withHeader('webhook-timestamp', timestamp), BODY, { now: TIMESTAMP }), {
      code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_INVALID',
      message: `Invalid "webhook-timestamp" header: "${timestamp}" is not an integer number of Unix seconds`
    }, timestamp)
  }
})

test('a malformed signature entry is skipped: a valid sibling verifies; alone, or next to wrong signatures, it is refused', async (t) => {
  const valid = signWebhook([KEY_A], ID, TIMESTAMP, BODY)['webhook-signature']
  const wrong = signWebhook([KEY_B], ID, TIMESTAMP, BODY)['webhook-signature']
  const short = `v1,${Buffer.alloc(16, 1).toString('base64')}`
  const cases: Array<[string, string, string]> = [
    ['no comma', 'v1', 'expected "<version>,<base64 signature>"'],
    ['no version', `,${valid.slice(3)}`, 'expected "<version>,<base64 signature>"'],
    ['bad base64', 'v1,not*base64!', 'a v1 signature is the padded base64 of 32 bytes'],
    ['unpadded base64', valid.replace(/=$/, ''), 'a v1 signature is the padded base64 of 32 bytes'],
    ['16 bytes', short, 'a v1 signature is the padded base64 of 32 bytes'],
    ['empty signature', 'v1,', 'a v1 signature is the padded base64 of 32 bytes'],
    ['a second comma', `${valid},x`, 'a v1 signature is the padded base64 of 32 bytes']
  ]
  const verify = (header: string): void => verifyWebhook([KEY_A], withHeader('webhook-signature', header), BODY, { now: TIMESTAMP })
  for (const [name, entry, reason] of cases) {
    // a key rotation where one entry is broken: the other still verifies, before or after it
    t.doesNotThrow(() => verify(`${entry} ${valid}`), `${name}, then a valid entry`)
    t.doesNotThrow(() => verify(`${valid} ${entry}`), `a valid entry, then ${name}`)
    t.throws(() => verify(entry), {
      code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MALFORMED',
      statusCode: 401,
      message: `Malformed webhook-signature entry "${entry}": ${reason}`
    }, `${name} alone`)
    t.throws(() => verify(`${entry} v1a,xyz`), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MALFORMED' }, `${name} and another version`)
    t.throws(() => verify(`${entry} ${wrong}`), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH' }, `${name} and a well-formed wrong signature`)
  }
})

test('whatever entries a webhook-signature header holds, verifyWebhook accepts it exactly when the standardwebhooks package does (property)', async (t) => {
  // standardwebhooks reads the clock itself: signed now, well within its tolerance
  const signed = signWebhook([KEY_A], ID, nowSeconds(), BODY)
  const now = Number(signed['webhook-timestamp'])
  const valid = signed['webhook-signature']
  const wrong = signWebhook([KEY_B], ID, now, BODY)['webhook-signature']
  const reference = new Webhook(SECRET_A)
  const entry = fc.oneof(
    fc.constant(valid),
    fc.constant(wrong),
    fc.constantFrom('v1', 'v1,', ',', '', 'v1,not*base64!', valid.replace(/=$/, ''), `v1a,${valid.slice(3)}`, `V1,${valid.slice(3)}`, `v2,${valid.slice(3)}`),
    // a valid signature cut, extended or with a character changed
    fc.tuple(fc.integer({ min: 3, max: valid.length - 1 }), fc.string({ maxLength: 3 })).map(([at, text]) => valid.slice(0, at) + text.replace(/[ ,]/g, '') + valid.slice(at + 1)),
    fc.string({ maxLength: 12 }).map(text => text.replace(/ /g, ''))
  )
  fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), (entries) => {
    const headers = { ...signed, 'webhook-signature': entries.join(' ') }
    let ours = true
    try {
      verifyWebhook([KEY_A], headers, BODY, { now })
    } catch {
      ours = false
    }
    let theirs = true
    try {
      reference.verify(BODY, headers)
    } catch {
      theirs = false
    }
    return ours === theirs
  }), { numRuns: 500 })
  t.pass('500 headers judged alike')
})

test('only v1 signatures count: other versions are skipped, and alone they are unsupported', async (t) => {
  const valid = signWebhook([KEY_A], ID, TIMESTAMP, BODY)['webhook-signature']
  // The standard's own example pairs a v1 with a v1a (ed25519) signature
  const v1a = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=='
  verifyWebhook([KEY_A], withHeader('webhook-signature', `${v1a} ${valid}`), BODY, { now: TIMESTAMP })
  verifyWebhook([KEY_A], withHeader('webhook-signature', `${valid}   ${v1a}`), BODY, { now: TIMESTAMP })

  t.throws(() => verifyWebhook([KEY_A], withHeader('webhook-signature', `v2,${valid.slice(3)}`), BODY, { now: TIMESTAMP }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_UNSUPPORTED',
    statusCode: 401,
    message: 'The webhook-signature header has no v1 (HMAC-SHA256) signature, only v2: ask the sender to sign with a shared whsec_ secret'
  })
  t.throws(() => verifyWebhook([KEY_A], withHeader('webhook-signature', `${v1a} V1,${valid.slice(3)}`), BODY, { now: TIMESTAMP }), {
    code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_UNSUPPORTED',
    message: /no v1 \(HMAC-SHA256\) signature, only v1a, V1:/
  })
})

test('bad verifyWebhook options fail closed with a coded error, even for a message that would pass', async (t) => {
  // a genuine message from 1970: only the tolerance check refuses it, so no bad option may switch that check off
  const ancient = signWebhook([KEY_A], ID, 0, BODY)
  const fresh = signWebhook([KEY_A], ID, nowSeconds(), BODY)
  const cases: Array<[unknown, RegExp]> = [
    [{ toleranceSeconds: Number.NaN }, /^Invalid webhook receiver option: toleranceSeconds must be an integer from 0 to 86400, not NaN$/],
    [{ toleranceSeconds: Infinity }, /toleranceSeconds must be an integer from 0 to 86400, not Infinity$/],
    [{ toleranceSeconds: -Infinity }, /not -Infinity$/],
    [{ toleranceSeconds: -1 }, /not -1$/],
    [{ toleranceSeconds: 1.5 }, /not 1\.5$/],
    [{ toleranceSeconds: 86_401 }, /not 86401$/],
    [{ toleranceSeconds: '300' }, /not '300'$/],
    [{ toleranceSeconds: null }, /not null$/],
    [{ toleranceSeconds: {} }, /not \{\}$/],
    [{ toleranceSeconds: [300] }, /not \[ 300 \]$/],
    [{ toleranceSeconds: 300n }, /not 300n$/],
    [{ now: Number.NaN }, /^Invalid webhook receiver option: now must be a number from 0 to 9007199254740991, not NaN$/],
    [{ now: Infinity }, /now must be a number .*, not Infinity$/],
    [{ now: -1 }, /not -1$/],
    [{ now: '0' }, /not '0'$/],
    [{ now: new Date() }, /now must be a number/],
    [{ tolerance: 300 }, /^Invalid webhook receiver option: unknown option "tolerance": the options take toleranceSeconds, now$/],
    [{ ['__proto__' as string]: 1 }, /unknown option "__proto__"|must be/],
    [null, /^Invalid webhook receiver option: the options must be an object, not null$/],
    ['strict', /the options must be an object, not 'strict'$/]
  ]
  for (const [options, message] of cases) {
    for (const headers of [ancient, fresh]) {
      t.throws(() => verifyWebhook([KEY_A], headers, BODY, options as any), {
        code: 'FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS',
        statusCode: 500,
        message
      }, inspect(options))
    }
  }
  t.throws(() => verifyWebhook([KEY_A], ancient, BODY), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' }, 'the defaults refuse it')
  t.throws(() => verifyWebhook([KEY_A], ancient, BODY, { toleranceSeconds: 0 }), { code: 'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' }, 'as does no tolerance')
  t.doesNotThrow(() => verifyWebhook([KEY_A], ancient, BODY, { now: 0, toleranceSeconds: 0 }), 'good options still work')
  t.doesNotThrow(() => verifyWebhook([KEY_A], fresh, BODY, { now: undefined, toleranceSeconds: undefined }), 'undefined means the default')
})

test('keys must be what parseSecret gives: an empty or short key, or a secret not decoded, is refused', async (t) => {
  const headers = signWebhook([KEY_A], ID, TIMESTAMP, BODY)
  const cases: Array<[unknown, RegExp]> = [
    [SECRET_A, /the keys must be an array of what parseSecret\(\) returns/],
    [KEY_A, /the keys must be an array/],
    [undefined, /the keys must be an array/],
    [[Buffer.alloc(0)], /a key is 0 bytes long/],
    [[KEY_A, Buffer.alloc(23, 1)], /a key is 23 bytes long/],
    [[Buffer.alloc(65, 1)], /a key is 65 bytes long/],
    [[SECRET_A], /a key is not a Buffer: decode secrets with parseSecret\(\)/],
    [[null], /a key is not a Buffer/]
  ]
  for (const [keys, message] of cases) {
    const expected = { code: 'FST_OPENAPI_CALLBACKS_INVALID_SECRET', statusCode: 500, message }
    t.throws(() => verifyWebhook(keys as Buffer[], headers, BODY, { now: TIMESTAMP }), expected, `verify: ${String(keys)}`)
    t.throws(() => signWebhook(keys as Buffer[], ID, TIMESTAMP, BODY), expected, `sign: ${String(keys)}`)
  }
})
