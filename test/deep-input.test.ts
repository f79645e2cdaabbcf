import { test } from 'tap'
import { parse } from 'yaml'
import { callbackRouter } from '../lib/index.js'
import { compileCallbackKey } from '../lib/expression/template.js'
import type { ParentRoute } from '../lib/expression/template.js'
import { appWith } from './helpers.js'
import type { Json } from './helpers.js'

// Pointers and schemas come from the app's code, at any depth: each is walked without recursion, or refused by name.
const TOKENS = 10_000
const LEVELS = 5_000

const parent = (schemas: Partial<ParentRoute>): ParentRoute => ({ label: 'route POST /deep, callback "cb"', resolveRef: () => undefined, ...schemas })
const bodyPointer = (tokens: readonly string[]): string => `{$request.query.callback_url}/{$request.body#/${tokens.join('/')}}`

/** `levels` schemas, each the only property `a` (or what `wrap` makes) of the one above, with a string at the bottom. */
function nested (levels: number, wrap: (inner: Json) => Json = inner => ({ type: 'object', properties: { a: inner } })): Json {
  let schema: Json = { type: 'string' }
  for (let level = 0; level < levels; level++) schema = wrap(schema)
  return schema
}

test(`a pointer of ${TOKENS} tokens through a recursive body schema, through real Fastify`, async (t) => {
  const app = await appWith()
  app.addSchema({ $id: 'Tree', type: 'object', properties: { tree: { $ref: 'Tree#' }, v: { type: 'string' } } })
  const tokens = [...Array<string>(TOKENS).fill('tree'), 'v']
  const schema = { querystring: { type: 'object', properties: { callback_url: { type: 'string' } } }, body: { $ref: 'Tree#' } }
  app.post('/deep', { schema: { ...schema, callbacks: [callbackRouter().post(bodyPointer(tokens), { name: 'cb' })] } }, async () => ({}))
  await app.ready()
  const callback = (app.swagger() as Json).paths['/deep'].post.callbacks.cb
  t.same(Object.keys(callback), [bodyPointer(tokens)])
  await app.close()

  const wrong = await appWith()
  wrong.addSchema({ $id: 'Tree', type: 'object', properties: { tree: { $ref: 'Tree#' }, v: { type: 'string' } } })
  wrong.post('/deep', { schema: { ...schema, callbacks: [callbackRouter().post(bodyPointer([...tokens, 'w']), { name: 'cb' })] } }, async () => ({}))
  await t.rejects(
    async () => { await wrong.ready() },
    { code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED', message: /^route POST \/deep, callback "cb": runtime expression "\$request\.body#\/tree\/tree.*\/v\/w" at position 31 refers to .* which the route's body schema does not declare$/ }
  )
  await wrong.close()
})

test(`a pointer of ${TOKENS} tokens evaluates on a body as deep`, async (t) => {
  const tokens = Array<string>(TOKENS).fill('tree')
  const template = compileCallbackKey(bodyPointer([...tokens, 'v']), parent({
    querystring: { type: 'object', properties: { callback_url: { type: 'string' } } },
    body: { $id: 'T', type: 'object', properties: { tree: { $ref: 'T' }, v: { type: 'string' } } }
  }))
  let body: Json = { v: 'leaf' }
  for (let level = 0; level < TOKENS; level++) body = { tree: body }
  const request = { query: { callback_url: 'https://example.com' }, body }
  t.same(template.evaluate({ url: '', method: 'POST', request }), { ok: true, url: 'https://example.com/leaf' })
})

test(`schemas ${LEVELS} levels deep, in every way a pointer walks them`, async (t) => {
  const down = Array<string>(LEVELS).fill('a')
  let embedded: Json = { $id: 'bottom', type: 'object', properties: { found: { type: 'string' } } }
  for (let level = 0; level < LEVELS; level++) embedded = { $defs: { inner: embedded } }
  const cases: Array<{ what: string, body: Json, tokens: string[], resolveRef?: (ref: string) => unknown }> = [
    { what: 'properties', body: nested(LEVELS), tokens: down },
    { what: 'allOf around each level', body: nested(LEVELS, inner => ({ allOf: [{ type: 'object', properties: { a: inner } }] })), tokens: down },
    { what: 'items of arrays', body: nested(LEVELS, inner => ({ type: 'object', properties: { a: { type: 'array', items: inner } } })), tokens: down.flatMap(token => [token, '0']) },
    {
      what: 'a $ref to a shared schema at each level',
      body: { $ref: 'S0' },
      tokens: down,
      resolveRef: ref => Number(ref.slice(1)) === LEVELS ? { type: 'string' } : { type: 'object', properties: { a: { $ref: `S${Number(ref.slice(1)) + 1}` } } }
    },
    { what: 'a $ref to an $id embedded deep', body: { allOf: [{ $ref: 'bottom' }], $defs: { deep: embedded } }, tokens: ['found'] }
  ]
  for (const { what, body, tokens, resolveRef } of cases) {
    const route = parent({ querystring: { type: 'object', properties: { callback_url: { type: 'string' } } }, body, ...(resolveRef === undefined ? {} : { resolveRef }) })
    t.doesNotThrow(() => compileCallbackKey(bodyPointer(tokens), route), `${what}: declared`)
    t.throws(() => compileCallbackKey(bodyPointer([...tokens, 'beyond']), route), { code: 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED' }, `${what}: one token more is not`)
  }
})

test('callback and webhook schemas nested too deep for the document are refused by name; the deepest allowed is written', async (t) => {
  // 127 properties levels are 255 nested objects: one level under the limit of 256
  const deepest = nested(127, inner => ({ type: 'object', properties: { a: inner }, examples: [{}] }))
  const app = await appWith({ openapi: '3.0.3' })
  app.post('/deep', { schema: { callbacks: [callbackRouter().post('{$url}', { name: 'cb', schema: { body: deepest } })] } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as Json
  let schema = document.paths['/deep'].post.callbacks.cb['{$url}'].post.requestBody.content['application/json'].schema
  for (let level = 1; level < 127; level++) schema = schema.properties.a
  t.same(schema.example, {}, 'nested examples become example at every level of a 3.0 document')
  t.same(parse(app.swagger({ yaml: true }) as string), JSON.parse(JSON.stringify(document)), 'the YAML is written')
  await app.close()

  // one object shared by both branches of every level: 2^120 paths, measured once per object
  const shared = (levels: number): Json => nested(levels, inner => ({ anyOf: [inner, inner] }))
  t.doesNotThrow(() => callbackRouter().post('{$url}', { name: 'cb', schema: { body: shared(120) } }), 'a schema that shares objects (a DAG) is measured by depth, not by paths')
  const webhooks = await appWith({ openapi: '3.1.0' })
  const cyclic: Json = { type: 'object', properties: {} }
  ;(cyclic.properties as Json).self = cyclic
  const refused: Array<[string, () => unknown, string]> = [
    ['a callback body', () => callbackRouter().post('{$url}', { name: 'cb', schema: { body: nested(128) } }), 'callback POST {$url} ("cb"): schema.body'],
    ['a callback body of 5,000 levels', () => callbackRouter().post('{$url}', { name: 'cb', schema: { body: nested(LEVELS) } }), 'callback POST {$url} ("cb"): schema.body'],
    ['a response', () => callbackRouter().post('{$url}', { name: 'cb', schema: { response: { 200: nested(128) } } }), 'callback POST {$url} ("cb"): schema.response'],
    ['a shared schema one level too deep', () => callbackRouter().post('{$url}', { name: 'cb', schema: { body: shared(128) } }), 'callback POST {$url} ("cb"): schema.body'],
    ['a schema that contains itself', () => callbackRouter().post('{$url}', { name: 'cb', schema: { querystring: cyclic } }), 'callback POST {$url} ("cb"): schema.querystring'],
    ['a webhook body', () => webhooks.webhooks.post('deep', { schema: { body: nested(LEVELS) } }), 'webhook POST "deep": schema.body']
  ]
  for (const [what, define, where] of refused) {
    t.throws(define, {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
      message: `${where} nests objects more than 256 levels deep (or contains itself), more than the document can be written with; use $ref for recursive types`
    }, what)
  }
  await webhooks.close()
})
