import { test } from 'tap'
import type { LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { createAddressPolicy } from '../lib/address-policy/address-policy.js'
import { appWith } from './helpers.js'
import { startReceiver } from './receivers.js'

type Callback = (err: unknown, address?: unknown, family?: unknown) => void
/** A resolver as hostile as JavaScript allows: anything as the error, anything as the answer, any number of calls. */
type HostileLookup = (hostname: string, options: { all?: boolean }, callback: Callback) => void

const loopback: LookupAddress = { address: '127.0.0.1', family: 4 }
const later = (callback: Callback, err: unknown, address?: unknown, family?: unknown): void => { setImmediate(() => callback(err, address, family)) }

const LOOKUP_FAILED = (message: RegExp) => ({
  outcome: 'retryable',
  statusCode: undefined,
  error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', cause: { code: 'FST_OPENAPI_CALLBACKS_LOOKUP_FAILED', statusCode: 502, message } }
})

const CASES: Array<[name: string, lookup: HostileLookup, expected: Record<string, unknown>]> = [
  // no address at all: Node's net throws an uncaught TypeError on the empty list
  ['an empty list', (_h, _o, cb) => later(cb, null, []), LOOKUP_FAILED(/^The lookup of callback host hostile-0\.test gave no usable answer: it answered no address$/)],
  ['an empty string', (_h, _o, cb) => later(cb, null, '', 4), LOOKUP_FAILED(/it answered "", which is not an IP address$/)],
  ['undefined', (_h, _o, cb) => later(cb, null, undefined), LOOKUP_FAILED(/it answered undefined, neither an address nor a list of addresses$/)],
  ['null', (_h, _o, cb) => later(cb, null, null), LOOKUP_FAILED(/it answered null, neither/)],
  ['a number', (_h, _o, cb) => later(cb, null, 2130706433, 4), LOOKUP_FAILED(/it answered 2130706433, neither/)],
  ['a function', (_h, _o, cb) => later(cb, null, () => '127.0.0.1'), LOOKUP_FAILED(/it answered a function, neither/)],
  ['a huge string, cut in the message', (_h, _o, cb) => later(cb, null, 'x'.repeat(10_000), 4), LOOKUP_FAILED(/it answered "x{64}…", which is not an IP address$/)],
  ['one entry, not in a list', (_h, _o, cb) => later(cb, null, loopback), LOOKUP_FAILED(/it answered an object, neither/)],
  // malformed entries
  ['an entry without an address', (_h, _o, cb) => later(cb, null, [{ family: 4 }]), LOOKUP_FAILED(/it answered undefined, which is not an IP address$/)],
  ['a null entry', (_h, _o, cb) => later(cb, null, [null]), LOOKUP_FAILED(/it answered undefined, which is not an IP address$/)],
  ['a string entry', (_h, _o, cb) => later(cb, null, ['127.0.0.1']), LOOKUP_FAILED(/it answered undefined, which is not an IP address$/)],
  ['an address that is a number', (_h, _o, cb) => later(cb, null, [{ address: 2130706433, family: 4 }]), LOOKUP_FAILED(/it answered 2130706433, which is not/)],
  ['a host name as the address', (_h, _o, cb) => later(cb, null, [{ address: 'localhost', family: 4 }]), LOOKUP_FAILED(/it answered "localhost", which is not an IP address$/)],
  ['a short IPv4 form', (_h, _o, cb) => later(cb, null, [{ address: '127.1', family: 4 }]), LOOKUP_FAILED(/"127\.1", which is not an IP address$/)],
  ['an address with a port', (_h, _o, cb) => later(cb, null, [{ address: '127.0.0.1:80', family: 4 }]), LOOKUP_FAILED(/which is not an IP address$/)],
  ['family 7', (_h, _o, cb) => later(cb, null, [{ address: '127.0.0.1', family: 7 }]), LOOKUP_FAILED(/it answered 127\.0\.0\.1 with the family 7, not 4$/)],
  ['family "IPv4"', (_h, _o, cb) => later(cb, null, [{ address: '127.0.0.1', family: 'IPv4' }]), LOOKUP_FAILED(/with the family "IPv4", not 4$/)],
  ['family 6 for an IPv4 address', (_h, _o, cb) => later(cb, null, [{ address: '127.0.0.1', family: 6 }]), LOOKUP_FAILED(/with the family 6, not 4$/)],
  ['no family', (_h, _o, cb) => later(cb, null, [{ address: '127.0.0.1' }]), LOOKUP_FAILED(/with the family undefined, not 4$/)],
  ['one address, without its family', (_h, _o, cb) => later(cb, null, '127.0.0.1'), LOOKUP_FAILED(/with the family undefined, not 4$/)],
  ['a good entry, then a malformed one', (_h, _o, cb) => later(cb, null, [loopback, { address: 'bogus', family: 4 }]), LOOKUP_FAILED(/"bogus", which is not/)],
  ['an entry whose getter throws', (_h, _o, cb) => later(cb, null, [{ get address () { throw new Error('getter bomb') } }]), LOOKUP_FAILED(/reading its answer threw Error: getter bomb$/)],
  // failures that are not Errors
  ['a string as the error', (_h, _o, cb) => later(cb, 'ENOTFOUND'), LOOKUP_FAILED(/the resolver failed with "ENOTFOUND", which is not an Error$/)],
  ['a plain object as the error', (_h, _o, cb) => later(cb, { code: 'ENOTFOUND' }), LOOKUP_FAILED(/the resolver failed with an object, which is not an Error$/)],
  ['a list as the error', (_h, _o, cb) => later(cb, ['ENOTFOUND']), LOOKUP_FAILED(/the resolver failed with a list, which is not an Error$/)],
  ['a number as the error', (_h, _o, cb) => later(cb, 42), LOOKUP_FAILED(/the resolver failed with 42, which is not an Error$/)],
  ['a synchronous throw', () => { throw new Error('resolver bug') }, LOOKUP_FAILED(/the resolver threw Error: resolver bug$/)],
  ['a synchronous throw of a string', () => { throw 'resolver bug' }, LOOKUP_FAILED(/the resolver threw resolver bug$/)], // eslint-disable-line no-throw-literal
  // a resolver's own Error passes through unchanged
  ['an Error', (_h, _o, cb) => later(cb, Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), []), {
    outcome: 'retryable', error: { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE', cause: { code: 'ENOTFOUND' } }
  }],
  // calls back more than once: the first answer counts
  ['an error, then a good answer', (_h, _o, cb) => { later(cb, new Error('first')); later(cb, null, [loopback]) }, {
    outcome: 'retryable', error: { cause: { message: 'first' } }
  }],
  ['a good answer twice, synchronously', (_h, o, cb) => {
    for (let index = 0; index < 2; index++) {
      if (o.all === true) cb(null, [loopback])
      else cb(null, loopback.address, loopback.family)
    }
  }, { outcome: 'delivered', statusCode: 200 }],
  // a forbidden address is refused by the policy, not retried
  ['a forbidden address', (_h, _o, cb) => later(cb, null, [{ address: '10.0.0.1', family: 4 }]), {
    outcome: 'failed', error: { code: 'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', message: /resolves to 10\.0\.0\.1, which is private/ }
  }]
]

test('every answer a resolver can give ends as a coded result through send(), and the process never crashes', async (t) => {
  const crashes: unknown[] = []
  const crashed = (error: unknown): void => { crashes.push(error) }
  process.on('uncaughtException', crashed)
  process.on('unhandledRejection', crashed)
  t.teardown(() => {
    process.off('uncaughtException', crashed)
    process.off('unhandledRejection', crashed)
  })
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const port = new URL(receiver.origin).port
  let current: HostileLookup = () => {}
  const lookup = ((hostname, options, callback) => current(hostname, options, callback as Callback)) as LookupFunction
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], lookup, attemptTimeout: 5000 } } })
  t.teardown(() => app.close())
  const ping = app.webhooks.post('ping')
  await app.ready()

  for (const [index, [name, hostile, expected]] of CASES.entries()) {
    current = hostile
    const before = receiver.received.length
    // one host per case: a connection kept alive for one host is never looked up again
    const result = await app.callbacks.send(ping, `http://hostile-${index}.test:${port}/`, undefined)
    t.match(result, expected, name)
    t.equal(receiver.received.length - before, result.outcome === 'delivered' ? 1 : 0, `${name}: sent only when delivered`)
    // a crash reaches its listener within a turn or two of the event loop
    await new Promise(resolve => { setImmediate(resolve) })
    t.same(crashes, [], `${name}: no uncaught exception`)
  }
})

test('the policy\'s lookup answers once, asynchronously, in the form asked for', async (t) => {
  const answers: Array<[string, LookupAddress[] | string]> = [['list', [loopback, { address: '::1', family: 6 }]], ['one', '127.0.0.1']]
  for (const [form, given] of answers) {
    const policy = createAddressPolicy({
      allow: ['127.0.0.1', '::1'],
      lookup: ((_h: string, _o: unknown, cb: Callback) => { cb(null, given, typeof given === 'string' ? 4 : undefined) }) as unknown as LookupFunction
    })
    for (const all of [true, false]) {
      let sync = true
      const calls: unknown[][] = []
      await new Promise<void>(resolve => {
        policy.lookup('trusted.test', { all }, (...args) => {
          calls.push([sync, ...args])
          resolve()
        })
        sync = false
      })
      const first = typeof given === 'string' ? loopback : given[0]!
      const list = typeof given === 'string' ? [loopback] : given
      t.same(calls, [[false, null, ...(all ? [list] : [first.address, first.family])]], `${form} answer, all: ${all}`)
    }
  }
})
