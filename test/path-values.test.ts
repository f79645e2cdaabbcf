import { test } from 'tap'
import fc from 'fast-check'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import type { CallbackDefinition } from '../lib/index.js'
import { appWith } from './helpers.js'
import { startReceiver } from './receivers.js'

// A value put into a callback URL stays in its own path segment: it never makes a dot segment ("." or "..", plain or
// percent-encoded) that the URL parser would fold into the segments around it, and a base URL that starts the template
// brings no query or fragment that would swallow the rest. The judge is the WHATWG URL parser: what it would change, the
// plugin refuses with FST_OPENAPI_CALLBACKS_INVALID_URL; everything else is sent to the path the template says.

async function setup () {
  const receiver = await startReceiver()
  const { origin } = receiver
  const router = callbackRouter()
  // every way a value meets a segment: alone, after a literal ".", after a literal "%2", next to another value, after a base URL
  const templates = {
    alone: `${origin}/tenants/{$request.body#/a}/events`,
    afterDot: `${origin}/t/.{$request.body#/a}/events`,
    afterPercent: `${origin}/t/%2{$request.body#/a}/events`,
    pair: `${origin}/t/{$request.body#/a}{$request.body#/b}/events`,
    base: '{$request.body#/base}/events/{$request.body#/a}',
    baseOnly: '{$request.body#/base}'
  }
  const definitions = Object.fromEntries(Object.entries(templates).map(([name, key]) => [name, router.post(key, { name })])) as Record<keyof typeof templates, CallbackDefinition>
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  app.post('/resolve/:which', {
    schema: {
      params: Type.Object({ which: Type.String() }),
      body: Type.Object({ a: Type.String(), b: Type.Optional(Type.String()), base: Type.Optional(Type.String()) }),
      callbacks: router.routes
    }
  }, async (request) => app.callbacks.target(definitions[(request.params as { which: keyof typeof templates }).which], request))
  await app.ready()
  const resolve = async (which: keyof typeof templates, body: { a: string, b?: string, base?: string }) => {
    const response = await app.inject({ method: 'POST', url: `/resolve/${which}`, payload: body })
    return { statusCode: response.statusCode, json: response.json() }
  }
  return { app, receiver, origin, templates, definitions, resolve }
}

// values aimed at the path: dots in every spelling, separators, and anything else
const tricky = ['.', '..', '...', '%2e', '%2E', '.%2e', '%2e%2E', '%2e.', 'e', 'E', 'e.', '.e', '/', '\\', '?', '#', '../..', '..\\', '%2f', '%5c', '..;', ' ..', '.. ']
const value = fc.oneof(
  fc.constantFrom(...tricky),
  fc.string({ unit: fc.constantFrom('.', '%', '2', 'e', 'E', '/', '\\', '?', '#', 'a', ';'), minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
)

/** The URL with each value percent-encoded in place, and whether the URL parser would keep its path as written. */
function naive (template: string, values: Record<string, string>): { url: string, kept: boolean } {
  const url = template.replace(/\{\$request\.body#\/(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]!))
  const path = url.replace(/^http:\/\/[^/]+/, '')
  return { url, kept: new URL(url).pathname === path }
}

test('no value moves a callback\'s request out of its path segment: it is refused exactly when the URL parser would fold it (property)', async (t) => {
  const { app, receiver, templates, resolve } = await setup()
  t.teardown(async () => { await app.close(); await receiver.close() })
  let refused = 0
  let kept = 0
  await fc.assert(fc.asyncProperty(fc.constantFrom('alone', 'afterDot', 'afterPercent', 'pair' as const), value, value, async (which, a, b) => {
    const values = { a, b }
    const expected = naive(templates[which], values)
    const { statusCode, json } = await resolve(which, values)
    if (!expected.kept) {
      refused++
      return statusCode === 400 && json.code === 'FST_OPENAPI_CALLBACKS_INVALID_URL' && /makes the dot segment/.test(json.message)
    }
    kept++
    if (statusCode !== 200 || json.target.url !== new URL(expected.url).href) return false
    // the segments around the value are the template's, and the value's own segment reads back as the value
    const segments = new URL(json.target.url).pathname.split('/')
    if (segments.length !== 4 || segments.at(-1) !== 'events') return false
    return which !== 'alone' || (segments[1] === 'tenants' && decodeURIComponent(segments[2]!) === a)
  }), { numRuns: 400 })
  t.ok(refused > 0 && kept > 0, `both sides seen: ${refused} refused, ${kept} kept`)
})

test('on the wire: the receiver gets each value in its own segment, and nothing for a value refused', async (t) => {
  const { app, receiver, origin, definitions, resolve } = await setup()
  t.teardown(async () => { await app.close(); await receiver.close() })
  const values = [...tricky, ...fc.sample(value, { numRuns: 20, seed: 2 })]
  for (const a of values) {
    const before = receiver.received.length
    const { statusCode, json } = await resolve('alone', { a })
    if (a === '.' || a === '..') {
      t.match({ statusCode, json }, { statusCode: 400, json: { code: 'FST_OPENAPI_CALLBACKS_INVALID_URL' } }, `${JSON.stringify(a)} refused`)
      continue
    }
    t.equal(statusCode, 200, JSON.stringify(a))
    const result = await app.callbacks.send(definitions.alone, json.target, undefined)
    t.equal(result.outcome, 'delivered', JSON.stringify(a))
    const path = receiver.received[before]!.url.split('?')[0]!.split('/')
    t.same([path.length, path[1], decodeURIComponent(path[2]!), path[3]], [4, 'tenants', a, 'events'], `${JSON.stringify(a)} arrives in its own segment`)
  }
  t.ok(receiver.received.every(({ url }) => url.startsWith('/tenants/')), 'nothing reached any other path')
  t.ok(origin.startsWith('http://127.0.0.1:'))
})

test('a value next to the template\'s text or another value cannot complete a dot segment', async (t) => {
  const { app, receiver, resolve } = await setup()
  t.teardown(async () => { await app.close(); await receiver.close() })
  const cases: Array<[Parameters<typeof resolve>[0], { a: string, b?: string }, string]> = [
    ['afterDot', { a: '.' }, '..'],
    ['afterPercent', { a: 'e' }, '%2e'],
    ['afterPercent', { a: 'E.' }, '%2E.'],
    ['pair', { a: '.', b: '.' }, '..'],
    ['pair', { a: '.', b: 'x' }, ''],
    ['alone', { a: '..' }, '..']
  ]
  for (const [which, body, segment] of cases) {
    const { statusCode, json } = await resolve(which, body)
    if (segment === '') {
      t.equal(statusCode, 200, `${which} ${JSON.stringify(body)}`)
      continue
    }
    t.equal(statusCode, 400)
    t.match(json, { code: 'FST_OPENAPI_CALLBACKS_INVALID_URL', message: `the value of {$request.body#/a} makes the dot segment "${segment}" in the path` }, `${which} ${JSON.stringify(body)}`)
  }
})

test('a base URL that starts the template: its own dot segments, query or fragment are refused when the template goes on after it', async (t) => {
  const { app, receiver, origin, resolve } = await setup()
  t.teardown(async () => { await app.close(); await receiver.close() })
  const accepted: Array<[string, string]> = [
    [origin, `${origin}/events/x`],
    [`${origin}/hooks`, `${origin}/hooks/events/x`],
    [`${origin}/a.b/..c`, `${origin}/a.b/..c/events/x`]
  ]
  for (const [base, url] of accepted) {
    t.match(await resolve('base', { base, a: 'x' }), { statusCode: 200, json: { target: { url } } }, base)
  }
  const refused: Array<[string, RegExp]> = [
    [`${origin}/hooks/..`, /the value of \{\$request\.body#\/base\} makes the dot segment "\.\." in the path/],
    [`${origin}/hooks/%2E`, /makes the dot segment "%2E"/],
    [`${origin}/hooks\\..`, /makes the dot segment "\.\."/],
    [`${origin}/hooks?token=1`, /the base URL that \{\$request\.body#\/base\} gives has a query or fragment, and the template goes on after it/],
    [`${origin}/hooks#top`, /has a query or fragment/]
  ]
  for (const [base, message] of refused) {
    t.match(await resolve('base', { base, a: 'x' }), { statusCode: 400, json: { code: 'FST_OPENAPI_CALLBACKS_INVALID_URL', message } }, base)
  }
  t.match(await resolve('baseOnly', { base: `${origin}/hooks?token=1`, a: 'x' }), { statusCode: 200, json: { target: { url: `${origin}/hooks?token=1` } } },
    'a base URL that is the whole template keeps its query')
})
