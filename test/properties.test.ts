import { test } from 'tap'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parse } from 'yaml'
import { callbackRouter } from '../lib/index.js'
import { formatExpression, parseExpression } from '../lib/expression/grammar.js'
import type { RuntimeExpression } from '../lib/expression/grammar.js'
import { compileCallbackKey } from '../lib/expression/template.js'
import type { ParentRoute } from '../lib/expression/template.js'
import { appWith } from './helpers.js'
import type { Json } from './helpers.js'
import { changedBuiltins, snapshotBuiltins } from './builtins.js'

// Fixed seed, bounded runs: the same cases on every CI run; FC_SEED explores others
const seed = Number(process.env.FC_SEED ?? 42)
const runs = (numRuns: number) => ({ seed, numRuns })

const HOSTILE = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf', 'definitions', '$ref']
const anyText = fc.string({ unit: 'binary', maxLength: 24 })
// pieces of the grammar, so that many generated strings are valid expressions or nearly so
const grammarText = fc.array(fc.constantFrom(
  '$', 'url', 'method', 'statusCode', 'request', 'response', '.', 'header', 'query', 'path', 'body', '#', '/', '~', '~0', '~1',
  '{', '}', 'a', 'X-Id', 'é', '\u0000', ' ', '%', '\uD800', 'callback_url'
), { maxLength: 12 }).map(pieces => pieces.join(''))
const prefix = fc.constantFrom('', '$request.body#/', '$response.body#', '$request.body.', '$request.query.', '$request.header.', '$response.path.', '$url', '$callback_url')
const text = fc.oneof(anyText, fc.tuple(prefix, grammarText).map(([start, rest]) => start + rest), fc.constantFrom(...HOSTILE))
// reference tokens rich in the characters a pointer escapes
const pointerToken = fc.oneof(anyText, fc.string({ unit: fc.constantFrom('~', '/', '0', '1', '#', '.', 'a'), maxLength: 6 }))

const isOurs = (error: unknown): boolean => typeof (error as { code?: unknown }).code === 'string' &&
  (error as { code: string }).code.startsWith('FST_OPENAPI_CALLBACKS_')

test('every string is parsed into an expression that formats back to itself, or refused with a code', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(text, input => {
    let expression: RuntimeExpression
    try {
      expression = parseExpression(input)
    } catch (error) {
      assert.ok(isOurs(error), `an uncoded error for ${JSON.stringify(input)}: ${String(error)}`)
      return
    }
    assert.deepEqual(parseExpression(formatExpression(expression)), expression)
  }), runs(2000)))
})

const token = fc.string({ unit: fc.constantFrom(...'!#$%&\'*+-.^_`|~09AZaz'), minLength: 1, maxLength: 8 })
const asciiName = fc.string({ unit: fc.integer({ min: 1, max: 0x7f }).map(code => String.fromCharCode(code)), minLength: 1, maxLength: 8 })
const expressionArbitrary: fc.Arbitrary<RuntimeExpression> = fc.oneof(
  fc.constantFrom<RuntimeExpression>({ type: 'url' }, { type: 'method' }, { type: 'statusCode' }),
  fc.record({ type: fc.constantFrom('request' as const, 'response' as const), source: fc.constant('header' as const), name: token }),
  fc.record({ type: fc.constantFrom('request' as const, 'response' as const), source: fc.constantFrom('query' as const, 'path' as const), name: asciiName }),
  fc.record({ type: fc.constantFrom('request' as const, 'response' as const), source: fc.constant('body' as const), pointer: fc.option(fc.array(pointerToken, { maxLength: 5 }), { nil: undefined }) })
// fast-check's records have no prototype; the parser makes plain objects
).map(expression => ({ ...expression }))

test('parse(format(e)) deep-equals e for every expression', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(expressionArbitrary, expression => {
    assert.deepEqual(parseExpression(formatExpression(expression)), expression)
  }), runs(2000)))
})

// A route that declares everything, so that keys are refused for their syntax only
const Any = { $id: 'Any', type: 'object', additionalProperties: { $ref: 'Any' }, items: { $ref: 'Any' } }
const everyName = { type: 'object', patternProperties: { '': {} } }
const permissive: ParentRoute = {
  label: 'route POST /x, callback "cb"',
  querystring: everyName,
  headers: everyName,
  params: everyName,
  body: Any,
  response: { 200: Any },
  resolveRef: () => undefined
}
const key = fc.oneof(text, fc.tuple(text, text, text).map(([before, inside, after]) => `${before}{${inside}}${after}`))

test('every callback key is compiled or refused with a code, and the key it becomes is compiled to itself', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(key, input => {
    let compiled
    try {
      compiled = compileCallbackKey(input, permissive)
    } catch (error) {
      assert.ok(isOurs(error), `an uncoded error for ${JSON.stringify(input)}: ${String(error)}`)
      return
    }
    const again = compileCallbackKey(compiled.key, permissive)
    assert.equal(again.key, compiled.key)
    assert.deepEqual(again.expressions, compiled.expressions)
  }), runs(2000)))
})

test('a key that comes out in the document is accepted again, through real Fastify and @fastify/swagger', async (t) => {
  const routeSchema = { querystring: everyName, headers: everyName, body: { $ref: 'Any#' }, response: { 200: { $ref: 'Any#' } } }
  await t.resolves(fc.assert(fc.asyncProperty(key, async input => {
    const app = await appWith()
    app.addSchema(Any)
    try {
      app.post('/x', { schema: { ...routeSchema, callbacks: [callbackRouter().post(input, { name: 'cb' })] } }, async () => ({}))
      await app.ready()
    } catch (error) {
      assert.ok(isOurs(error), `an uncoded error for ${JSON.stringify(input)}: ${String(error)}`)
      await app.close()
      return
    }
    const [documented] = Object.keys((app.swagger() as Json).paths['/x'].post.callbacks.cb)
    assert.equal(compileCallbackKey(documented!, { ...permissive, resolveRef: id => app.getSchema(id) }).key, documented)
    await app.close()
  }), runs(60)))
})

const names = fc.uniqueArray(fc.oneof(fc.constantFrom(...HOSTILE), anyText), { minLength: 1, maxLength: 4 })

test('names from the app are carried exactly into the document, or refused with a code, and no built-in changes', async (t) => {
  await t.resolves(fc.assert(fc.asyncProperty(names, async given => {
    const before = snapshotBuiltins()
    const app = await appWith({ openapi: '3.1.0' })
    // blank names are refused, and "$ref" as a callback's name (it would make the callbacks map a Reference Object);
    // every other name must be carried
    const refused = given.some(name => name.trim() === '' || name === '$ref')
    try {
      // explicit operationIds first: generated ones then step around them
      app.post('/ids', { schema: { callbacks: given.map((name, index) => callbackRouter().post('{$url}', { name: `cb${index}`, operationId: name })) } }, async () => ({}))
      app.post('/list', { schema: { callbacks: given.map(name => callbackRouter().post('{$url}', { name })) } }, async () => ({}))
      app.post('/record', { schema: { callbacks: Object.fromEntries(given.map(name => [name, callbackRouter().put('{$url}')])) } }, async () => ({}))
      for (const name of given) app.webhooks.post(name)
      await app.ready()
    } catch (error) {
      assert.ok(isOurs(error), `an uncoded error for ${JSON.stringify(given)}: ${String(error)}`)
      assert.ok(refused, `${JSON.stringify(given)} refused: ${String(error)}`)
      await app.close()
      return
    }
    assert.ok(!refused, `${JSON.stringify(given)} accepted`)
    const document = app.swagger() as Json
    for (const built of [document, parse(app.swagger({ yaml: true }) as string), JSON.parse(JSON.stringify(document))]) {
      const { paths, webhooks } = built
      assert.deepEqual(given.map((_, index) => paths['/ids'].post.callbacks[`cb${index}`]['{$url}'].post.operationId), given)
      assert.deepEqual(Object.keys(paths['/list'].post.callbacks).sort(), [...given].sort())
      assert.deepEqual(Object.keys(paths['/record'].post.callbacks).sort(), [...given].sort())
      assert.deepEqual(Object.keys(webhooks).sort(), [...given].sort())
      for (const name of given) {
        assert.ok(Object.hasOwn(paths['/list'].post.callbacks, name) && Object.hasOwn(webhooks, name), name)
        assert.ok(Object.hasOwn(paths['/record'].post.callbacks[name]['{$url}'], 'put'), name)
      }
    }
    await app.close()
    assert.deepEqual(changedBuiltins(before), [])
  }), runs(60)))
})
