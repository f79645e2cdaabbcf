import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import type { CallbackDefinition } from '../lib/index.js'
import { appWith } from './helpers.js'

const router = callbackRouter()
const Body = Type.Object({ id: Type.String(), customer: Type.Object({ email: Type.String() }) })

// Definitions refused where they are made, before any app exists
const definitionCases: Array<[string, () => unknown, string, string | RegExp]> = [
  ['an unknown method', () => router.route({ method: 'FETCH' as any, url: '{$url}' }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback FETCH {$url}: method "FETCH" is not one of GET, PUT, POST, PATCH, DELETE, HEAD, OPTIONS, TRACE, QUERY'],
  ['a method that is not a string', () => router.route({ method: 42 as any, url: '{$url}' }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback 42 {$url}: method 42 is not one of GET, PUT, POST, PATCH, DELETE, HEAD, OPTIONS, TRACE, QUERY'],
  ['an empty url', () => router.post(''), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST : the url must be a non-empty runtime-expression key such as "{$request.query.callback_url}/events"'],
  ['a url that is not a string', () => router.post(undefined as any), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST undefined: the url must be a non-empty runtime-expression key such as "{$request.query.callback_url}/events"'],
  ['options that are not an object', () => router.post('{$url}', 'x' as any), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url}: options must be an object'],
  ['an empty name', () => router.post('{$url}', { name: ' ' }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} (" "): name must be a non-empty string'],
  ['an unknown option', () => router.post('{$url}', { name: 'a', responses: {} } as any), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): unknown option "responses"'],
  ['an empty summary', () => router.post('{$url}', { name: 'a', summary: '' }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): summary must be a non-empty string'],
  ['a description that is not a string', () => router.post('{$url}', { name: 'a', description: 1 as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): description must be a non-empty string'],
  ['an empty operationId', () => router.post('{$url}', { name: 'a', operationId: '' }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): operationId must be a non-empty string'],
  ['tags that are not strings', () => router.post('{$url}', { name: 'a', tags: ['ok', 3] as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): tags must be an array of non-empty strings'],
  ['tags that are a string', () => router.post('{$url}', { name: 'a', tags: 'jobs' as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): tags must be an array of non-empty strings'],
  ['deprecated that is not a boolean', () => router.post('{$url}', { name: 'a', deprecated: 'yes' as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): deprecated must be a boolean'],
  ['a schema that is not an object', () => router.post('{$url}', { name: 'a', schema: [] as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema must be an object like a Fastify route schema'],
  ['schema.responses', () => router.post('{$url}', { name: 'a', schema: { responses: {} } as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.responses is not a route schema key: did you mean schema.response?'],
  ['schema.query', () => router.post('{$url}', { name: 'a', schema: { query: {} } as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.query is not a route schema key: did you mean schema.querystring?'],
  ['schema.requestBody', () => router.post('{$url}', { name: 'a', schema: { requestBody: {} } as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.requestBody is not a route schema key: did you mean schema.body?'],
  ['an unknown schema key', () => router.post('{$url}', { name: 'a', schema: { cookies: {} } as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.cookies is not a route schema key'],
  ['a body that is not a schema', () => router.post('{$url}', { name: 'a', schema: { body: 'Invoice' } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.body must be a JSON Schema object'],
  ['headers that are not an object schema', () => router.post('{$url}', { name: 'a', schema: { headers: Type.String() } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.headers must be an object schema whose properties are the parameters'],
  ['an unknown schema key named like a built-in', () => router.post('{$url}', { name: 'a', schema: { constructor: {} } as any }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    /^callback POST \{\$url\} \("a"\): schema\.constructor is not a route schema key$/],
  ['a parameter that is not a schema', () => router.post('{$url}', { name: 'a', schema: { querystring: { type: 'object', properties: { page: null } } } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.querystring.properties.page must be a JSON Schema'],
  ['parameter properties that are not a map', () => router.post('{$url}', { name: 'a', schema: { headers: { type: 'object', properties: [] } } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.headers.properties must map names to JSON Schema objects'],
  ['a response header that is not a schema', () => router.post('{$url}', { name: 'a', schema: { response: { 200: { type: 'null', headers: { 'x-id': 'string' } } } } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.response.200.headers.x-id must be a JSON Schema'],
  ['a response map that is not an object', () => router.post('{$url}', { name: 'a', schema: { response: [] as any } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.response must map status codes to schemas'],
  ['a bad status code', () => router.post('{$url}', { name: 'a', schema: { response: { 600: Type.String() } } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.response has an invalid status code "600"'],
  ['a response that is not a schema', () => router.post('{$url}', { name: 'a', schema: { response: { 200: true } } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.response.200 must be a JSON Schema object'],
  ['consumes without a media type', () => router.post('{$url}', { name: 'a', schema: { consumes: ['json'] } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.consumes must be a non-empty array of media types'],
  ['empty produces', () => router.post('{$url}', { name: 'a', schema: { produces: [] } }), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'callback POST {$url} ("a"): schema.produces must be a non-empty array of media types']
]

for (const [what, define, code, message] of definitionCases) {
  test(`refused where it is made: ${what}`, async (t) => {
    t.throws(define, { code, message })
  })
}

const named = (url: string, options: object = {}): CallbackDefinition => callbackRouter().post(url, { name: 'notify', ...options })
const routeSchema = {
  querystring: Type.Object({ callback_url: Type.String() }),
  headers: Type.Object({ 'X-Callback': Type.String() }),
  params: Type.Object({ id: Type.String() }),
  body: Body,
  response: { 201: Type.Object({ receipt: Type.String() }) }
}
const where = 'route POST /orders/:id, callback "notify"'

// Definitions refused when the route that declares them is registered
const routeCases: Array<[string, unknown, string, string, object?]> = [
  ['a callback that is not a definition', [{ url: '{$url}' }], 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks[0] is not a callback definition: make it with callbackRouter()'],
  ['an unnamed callback in a list', [callbackRouter().post('{$url}')], 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks[0] (POST {$url}) has no name: give it { name } or put it in a record { name: definition }'],
  ['an unnamed single callback', callbackRouter().post('{$url}'), 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks (POST {$url}) has no name: give it { name } or put it in a record { name: definition }'],
  ['a record key that disagrees with the name', { other: named('{$url}') }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks.other is named "notify" but stands under the key "other"; the names must agree'],
  ['a record mixing definitions and other values', { notify: [named('{$url}'), 42] }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks.notify[1] is not a callback definition: make it with callbackRouter()'],
  ['callbacks that are a string', 'notify', 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks must be router.routes, a callback definition, a record of them, or an OpenAPI callbacks map'],
  ['a blank record key', { ' ': callbackRouter().post('{$url}') }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks has a blank key " ": a callback\'s name must be a non-empty string'],
  ['a raw map whose callback is not an object', { notify: 'x' }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: a callback must map runtime expressions to path items`],
  ['a raw map whose path item is not an object', { notify: { '{$url}': 1 } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: the path item of "{$url}" must be an object of operations`],
  ['a raw map with a Path Item field', { notify: { '{$url}': { summary: 'x', post: {} } } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: "summary" under "{$url}" is not a lower-case HTTP method; @fastify/swagger would turn it into an operation. Use callbackRouter() for summaries and parameters`],
  ['a raw map with an operation that is not an object', { notify: { '{$url}': { post: true } } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: post under "{$url}" must be an operation object`],
  ['a raw map with a requestBody that is not an object', { notify: { '{$url}': { post: { requestBody: 'Invoice' } } } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: post under "{$url}": requestBody must be an object`],
  ['a raw map with responses that are not an object', { notify: { '{$url}': { post: { responses: [] } } } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: post under "{$url}": responses must map status codes to Response Objects`],
  ['a raw map with a response that is not an object', { notify: { '{$url}': { post: { responses: { 200: 'OK' } } } } }, 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: post under "{$url}": responses must map status codes to Response Objects`],
  ['two raw keys that are one expression', { notify: { '{$callback_url}': { post: {} }, '{$request.query.callback_url}': { post: {} } } }, 'FST_OPENAPI_CALLBACKS_DUPLICATE',
    `${where}: POST {$request.query.callback_url} is declared twice under this name`],
  ['the same name, expression and method twice', [named('{$url}'), named('{$url}')], 'FST_OPENAPI_CALLBACKS_DUPLICATE',
    `${where}: POST {$url} is declared twice under this name`],
  ['two identical operationIds', [named('{$url}', { operationId: 'same' }), callbackRouter().post('{$url}', { name: 'other', operationId: 'same' })], 'FST_OPENAPI_CALLBACKS_DUPLICATE',
    'route POST /orders/:id, callback "other": operationId "same" is already used by route POST /orders/:id, callback "notify"; operationIds must be unique in the document'],
  ['a callback operationId equal to the route\'s', [named('{$url}', { operationId: 'createOrder' })], 'FST_OPENAPI_CALLBACKS_DUPLICATE',
    `${where}: operationId "createOrder" is already used by route POST /orders/:id; operationIds must be unique in the document`, { operationId: 'createOrder' }],
  ['a parameter container that is not a shared schema', [named('{$url}', { schema: { headers: Type.Ref('Missing') } })], 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    `${where}: parameter schema "Missing" is not a shared schema added with fastify.addSchema()`],
  ['a webhook in schema.callbacks', 'webhook', 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST /orders/:id: schema.callbacks[0] is a webhook; declare webhooks with fastify.webhooks, not in schema.callbacks'],
  ['an undeclared query parameter', [named('{$request.query.target}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    `${where}: runtime expression "$request.query.target" at position 1 refers to query parameter "target", which the route's querystring schema does not declare`],
  ['an undeclared path parameter', [named('{$request.query.callback_url}/{$request.path.orderId}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    `${where}: runtime expression "$request.path.orderId" at position 31 refers to path parameter "orderId", which the route's params schema does not declare`],
  ['an undeclared header', [named('{$request.header.X-Target}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    `${where}: runtime expression "$request.header.X-Target" at position 1 refers to header "X-Target", which the route's headers schema does not declare`],
  ['a body pointer that does not resolve', [named('{$request.query.callback_url}/{$request.body#/customer/phone}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    `${where}: runtime expression "$request.body#/customer/phone" at position 31 refers to "#/customer/phone" in the request body, which the route's body schema does not declare`],
  ['a response pointer that does not resolve', [named('{$request.query.callback_url}/{$response.body#/id}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    `${where}: runtime expression "$response.body#/id" at position 31 refers to "#/id" in the response body, which none of the route's response schemas declares`],
  ['an undeclared FastAPI shorthand', [named('{$target_url}/x')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
    `${where}: runtime expression "$target_url" at position 1 is neither a runtime expression nor a parameter of the route: declare "target_url" in its querystring, headers or params schema, or write a full expression such as "$request.query.target_url"`],
  ['an unknown expression source', [named('{$request.cookie.a}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX',
    `${where}: invalid runtime expression in "{$request.cookie.a}" at position 10: expected "header.", "query.", "path." or "body" after "$request."`],
  ['an unclosed brace', [named('{$request.query.callback_url')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX',
    `${where}: invalid runtime expression in "{$request.query.callback_url" at position 0: found "{" without a closing "}"`],
  ['an empty expression', [named('{}/x')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX',
    `${where}: invalid runtime expression in "{}/x" at position 1: expected a runtime expression between "{" and "}"`],
  ['a bad JSON pointer escape', [named('{$request.body#/a~2b}')], 'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX',
    `${where}: invalid runtime expression in "{$request.body#/a~2b}" at position 17: expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"`],
  ['a raw map key with a bad expression', { notify: { '{$request.bodyx}': { post: {} } } }, 'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX',
    `${where}: invalid runtime expression in "{$request.bodyx}" at position 14: expected "#" or the end of the expression after "$request.body"`],
  ['a route with several methods', [named('{$url}')], 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    'route POST,PUT /orders/:id: a route with several methods cannot declare callbacks, because @fastify/swagger shares one operation between its methods and the callbacks\' operationIds would repeat: declare one route per method', { method: ['POST', 'PUT'] }]
]

for (const [what, callbacks, code, message, extra = {}] of routeCases) {
  test(`refused when the route is registered: ${what}`, async (t) => {
    const app = await appWith()
    const { method = 'POST', ...schemaExtra } = extra as { method?: string | string[] }
    const declared = callbacks === 'webhook' ? [app.webhooks.post('subscription')] : callbacks
    const error = await (async () => {
      app.route({ method, url: '/orders/:id', schema: { ...routeSchema, ...schemaExtra, callbacks: declared as any }, handler: async () => ({}) })
      await app.ready()
    })().then(() => undefined, (error: Error & { code?: string }) => error)
    t.equal(error?.code, code)
    t.equal(error?.message, message)
    await app.close()
  })
}

test('at least 30 bad definitions are covered', async (t) => {
  t.ok(definitionCases.length + routeCases.length >= 30)
})
