import { test } from 'tap'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'
import { callbackRouter } from '../lib/index.js'
import { compileCallbackKey } from '../lib/expression/template.js'
import { appWith } from './helpers.js'
import type { Json } from './helpers.js'
import { changedBuiltins, snapshotBuiltins } from './builtins.js'

// Names that are properties of Object.prototype (or its accessor), so that `map[name]` finds something, or sets a prototype
const HOSTILE = [
  '__proto__', 'constructor', 'prototype', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'length', 'name',
  // …and JSON Schema keywords, which @fastify/swagger's schema conversion deletes or rewrites wherever they stand
  'definitions', 'properties', 'patternProperties', 'const', '$id', '$ref', '$schema', 'contentEncoding',
  // …and the prefix under which the plugin carries property names through @fastify/swagger
  'x-fastify-openapi-callbacks-name:$id'
]
// A key that starts with '$' is read as a bare runtime expression
const keyFor = (name: string): string => name.startsWith('$') ? `{$url}/${name}` : name

const onRoute = ['paths', '/x', 'post', 'callbacks']
const cb = (options: object = {}) => callbackRouter().post('{$url}', { name: 'cb', ...options })
const route = (app: FastifyInstance, callbacks: unknown, schema: object = {}) => {
  app.post('/x', { schema: { ...schema, callbacks: callbacks as any } }, async () => ({}))
}

interface Carried { path: string[], value?: unknown, json?: string }
interface Position {
  what: string
  declare: (app: FastifyInstance, name: string) => void
  /** Where the name must stand in the document (and what must be found there), or the code it is refused with. */
  expect: (name: string) => Carried | { refused: string | RegExp, message?: RegExp }
}

const INVALID = 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION'
// a `$name` is FastAPI's shorthand for a route parameter: undeclared here
const EXPRESSION = /^FST_OPENAPI_CALLBACKS_EXPRESSION_(SYNTAX|UNDECLARED)$/
// "$ref" as a callback's name would make the callbacks map read as a Reference Object
const callbackName = (name: string, carried: Carried): Carried | { refused: string, message: RegExp } =>
  name === '$ref' ? { refused: INVALID, message: /"\$ref" cannot name a callback/ } : carried
const positions: Position[] = [
  { what: 'a callback name', declare: (app, name) => route(app, [callbackRouter().post('{$url}', { name })]), expect: name => callbackName(name, { path: [...onRoute, name, '{$url}', 'post'] }) },
  { what: 'a record key of schema.callbacks', declare: (app, name) => route(app, { [name]: callbackRouter().post('{$url}') }), expect: name => callbackName(name, { path: [...onRoute, name, '{$url}', 'post'] }) },
  { what: 'a record key holding a list', declare: (app, name) => route(app, { [name]: [callbackRouter().post('{$url}'), callbackRouter().put('{$url}')] }), expect: name => callbackName(name, { path: [...onRoute, name, '{$url}', 'put'] }) },
  {
    what: 'an expression key (a literal URL)',
    declare: (app, name) => route(app, [callbackRouter().post(name, { name: 'cb' })]),
    expect: name => name.startsWith('$') ? { refused: EXPRESSION } : { path: [...onRoute, 'cb', name, 'post'] }
  },
  { what: 'a callback method', declare: (app, name) => route(app, [callbackRouter().route({ method: name as any, url: '{$url}', name: 'cb' })]), expect: () => ({ refused: INVALID }) },
  { what: 'a callback operationId', declare: (app, name) => route(app, [cb({ operationId: name })]), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'operationId'], value: name }) },
  { what: 'the route operationId', declare: (app, name) => route(app, [cb()], { operationId: name }), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'operationId'], value: `${name}_cb_post` }) },
  { what: 'a parameter name', declare: (app, name) => route(app, [cb({ schema: { querystring: { type: 'object', properties: { [name]: { type: 'string' } } } } })]), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'parameters', '0', 'name'], value: name }) },
  { what: 'a response header name', declare: (app, name) => route(app, [cb({ schema: { response: { 200: { type: 'string', headers: { [name]: { type: 'string' } } } } } })]), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'responses', '200', 'headers', name, 'schema', 'type'], value: 'string' }) },
  { what: 'a media type of a response', declare: (app, name) => route(app, [cb({ schema: { response: { 200: { content: { [name]: { schema: { type: 'string' } } } } } } })]), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'responses', '200', 'content', name, 'schema', 'type'], value: 'string' }) },
  { what: 'a media type of a body', declare: (app, name) => route(app, [cb({ schema: { body: { content: { [name]: { schema: { type: 'string' } } } } } })]), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'requestBody', 'content', name, 'schema', 'type'], value: 'string' }) },
  {
    what: 'a property of a callback body, at two depths',
    declare: (app, name) => route(app, [cb({ schema: { body: { type: 'object', properties: { plain: { type: 'number' }, [name]: { type: 'object', properties: { [name]: { type: 'string' } } } } } } })]),
    expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'requestBody', 'content', 'application/json', 'schema', 'properties', name, 'properties'], json: JSON.stringify({ [name]: { type: 'string' } }) })
  },
  {
    what: 'a property of a webhook body',
    declare: (app, name) => { app.webhooks.post('w', { schema: { body: { type: 'object', properties: { [name]: { type: 'string' } }, required: [name] } } }) },
    expect: name => ({ path: ['webhooks', 'w', 'post', 'requestBody', 'content', 'application/json', 'schema', 'properties'], json: JSON.stringify({ [name]: { type: 'string' } }) })
  },
  { what: 'a declared media type', declare: (app, name) => route(app, [cb({ schema: { body: { type: 'string' }, consumes: [name] } })]), expect: () => ({ refused: INVALID }) },
  { what: 'a status code', declare: (app, name) => route(app, [cb({ schema: { response: { [name]: { type: 'string' } } } })]), expect: () => ({ refused: INVALID }) },
  { what: 'a webhook name', declare: (app, name) => { app.webhooks.post(name) }, expect: name => ({ path: ['webhooks', name, 'post'] }) },
  { what: 'a webhook operationId', declare: (app, name) => { app.webhooks.post('w', { operationId: name }) }, expect: name => ({ path: ['webhooks', 'w', 'post', 'operationId'], value: name }) },
  { what: 'a webhook method', declare: (app, name) => { app.webhooks.route({ method: name as any, name: 'w' }) }, expect: () => ({ refused: INVALID }) },
  { what: 'a raw map callback name', declare: (app, name) => route(app, { [name]: { '{$url}': { post: {} } } }), expect: name => callbackName(name, { path: [...onRoute, name, '{$url}', 'post'] }) },
  {
    what: 'a raw map expression key',
    declare: (app, name) => route(app, { cb: { [name]: { post: {} } } }),
    expect: name => name.startsWith('$') ? { refused: EXPRESSION } : { path: [...onRoute, 'cb', name, 'post'] }
  },
  { what: 'a raw map method', declare: (app, name) => route(app, { cb: { '{$url}': { [name]: {} } } }), expect: () => ({ refused: INVALID }) },
  { what: 'a raw operation field', declare: (app, name) => route(app, { cb: { '{$url}': { post: { [name]: 'kept' } } } }), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', name], value: 'kept' }) },
  { what: 'a raw operationId', declare: (app, name) => route(app, { cb: { '{$url}': { post: { operationId: name } } } }), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'operationId'], value: name }) },
  { what: 'a raw status code', declare: (app, name) => route(app, { cb: { '{$url}': { post: { responses: { [name]: { description: 'kept' } } } } } }), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'responses', name, 'description'], value: 'kept' }) },
  { what: 'a raw media type', declare: (app, name) => route(app, { cb: { '{$url}': { post: { requestBody: { content: { [name]: { schema: { type: 'string' } } } } } } } }), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'requestBody', 'content', name, 'schema', 'type'], value: 'string' }) },
  { what: 'a raw header name', declare: (app, name) => route(app, { cb: { '{$url}': { post: { responses: { 200: { description: 'd', headers: { [name]: { schema: { type: 'string' } } } } } } } } }), expect: name => ({ path: [...onRoute, 'cb', '{$url}', 'post', 'responses', '200', 'headers', name, 'schema', 'type'], value: 'string' }) }
]

/** The value at `path`, reached through own properties only; undefined if one step is missing. */
function ownAt (document: unknown, path: readonly string[]): { found: boolean, value?: unknown } {
  let node = document
  for (const name of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, name)) return { found: false }
    node = (node as Json)[name]
  }
  return { found: true, value: node }
}

for (const position of positions) {
  test(`hostile names as ${position.what}`, async (t) => {
    for (const name of HOSTILE) {
      const before = snapshotBuiltins()
      const app = await appWith({ openapi: '3.1.0' })
      const expected = position.expect(name)
      const outcome = await (async () => {
        position.declare(app, name)
        await app.ready()
      })().then(() => undefined, (error: Error & { code?: string }) => error)
      if ('refused' in expected) {
        t.match(outcome?.code, expected.refused, `${name}: refused with a code`)
        t.match(outcome?.message, expected.message ?? /"cb"|"w"/, `${name}: the message names the callback or webhook, or says what is wrong`)
      } else {
        t.equal(outcome, undefined, `${name}: accepted`)
        const document = app.swagger() as Json
        for (const [form, built] of [['document', document], ['JSON', JSON.parse(JSON.stringify(document))], ['YAML', parse(app.swagger({ yaml: true }) as string)]] as const) {
          const at = ownAt(built, expected.path)
          t.ok(at.found, `${name}: carried exactly in the ${form}`)
          if (expected.value !== undefined) t.equal(at.value, expected.value, `${name}: with its value in the ${form}`)
          if (expected.json !== undefined) t.equal(JSON.stringify(at.value), expected.json, `${name}: nothing else in the ${form}`)
        }
      }
      await app.close()
      t.same(changedBuiltins(before), [], `${name}: no built-in changed`)
    }
  })
}

test('an object literal\'s __proto__ in schema.callbacks or a raw map is refused, not silently lost', async (t) => {
  const literals: Array<[string, unknown, string]> = [
    ['a record', { __proto__: callbackRouter().post('{$url}', { name: 'cb' }) }, 'route POST /x: schema.callbacks has a prototype of its own'],
    ['a raw callback', { cb: { __proto__: { post: {} } } }, 'route POST /x, callback "cb": the callback has a prototype of its own'],
    ['a raw path item', { cb: { '{$url}': { __proto__: { post: {} } } } }, 'route POST /x, callback "cb": the path item of "{$url}" has a prototype of its own'],
    ['a raw operation', { cb: { '{$url}': { post: { __proto__: { summary: 'lost' } } } } }, 'route POST /x, callback "cb": post under "{$url}" has a prototype of its own']
  ]
  for (const [what, callbacks, message] of literals) {
    const app = await appWith()
    await t.rejects(async () => {
      route(app, callbacks)
      await app.ready()
    }, { code: INVALID, message: new RegExp(`^${message.replace(/[{}$]/g, '\\$&')}: an object literal's "__proto__: value" sets the prototype`) }, what)
    await app.close()
  }
})

test('hostile names come out of @fastify/swagger-ui\'s /json and /yaml exactly', async (t) => {
  const before = snapshotBuiltins()
  const app = await appWith({ openapi: '3.1.0' })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  // "$ref" cannot name a callback (refused above), but can name a webhook
  const callbackNames = HOSTILE.filter(name => name !== '$ref')
  route(app, callbackNames.map(name => callbackRouter().post(keyFor(name), { name })))
  for (const name of HOSTILE) app.webhooks.post(name)
  await app.ready()
  const json = (await app.inject('/docs/json')).json()
  const yaml = parse((await app.inject('/docs/yaml')).body)
  for (const document of [json, yaml]) {
    t.same(Object.keys(document.paths['/x'].post.callbacks), callbackNames)
    t.same(Object.keys(document.webhooks), HOSTILE)
    for (const name of callbackNames) t.ok(ownAt(document, [...onRoute, name, keyFor(name), 'post']).found, name)
  }
  await app.close()
  t.same(changedBuiltins(before), [])
})

test('a hostile name read from a request that lacks it is missing, never a built-in', async (t) => {
  // header names are tokens
  for (const name of HOSTILE.filter(name => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))) {
    const declares = { type: 'object', properties: { [name]: { type: 'string' } } }
    const route = { label: 'route POST /x, callback "cb"', querystring: declares, headers: declares, params: declares, body: declares, response: { 200: declares }, resolveRef: () => undefined }
    for (const expression of [`$request.header.${name}`, `$request.query.${name}`, `$request.path.${name}`, `$request.body#/${name}`, `$response.header.${name}`, `$response.body#/${name}`]) {
      const template = compileCallbackKey(`https://example.com/{${expression}}`, route)
      const empty = { headers: {}, query: {}, params: {}, body: {} }
      t.same(template.evaluate({ url: '', method: 'POST', request: empty, response: { statusCode: 200, ...empty } }), { ok: false, missing: expression }, expression)
      const given = { headers: { [name.toUpperCase()]: 'v' }, query: { [name]: 'v' }, params: { [name]: 'v' }, body: { [name]: 'v' } }
      t.same(template.evaluate({ url: '', method: 'POST', request: given, response: { statusCode: 200, ...given } }), { ok: true, url: 'https://example.com/v' }, `${expression} given`)
    }
  }
})
