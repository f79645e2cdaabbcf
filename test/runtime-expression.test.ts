import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { Type as Type1 } from 'typebox'
import { formatExpression, parseExpression } from '../lib/expression/grammar.js'
import type { RuntimeExpression } from '../lib/expression/grammar.js'
import { compileCallbackKey } from '../lib/expression/template.js'
import type { EvaluationContext, ParentRoute } from '../lib/expression/template.js'

const LABEL = 'route POST /invoices/, callback "invoice_notification"'
const SYNTAX = 'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX'
const UNDECLARED = 'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED'

function parent (schemas: Partial<ParentRoute> = {}): ParentRoute {
  return { label: LABEL, resolveRef: () => undefined, ...schemas }
}

/** The code and message of what `fn` throws. */
function failure (fn: () => unknown): { code: string, message: string } {
  try {
    fn()
  } catch (error) {
    const { code, message } = error as { code: string, message: string }
    return { code, message }
  }
  return { code: 'none', message: 'nothing was thrown' }
}

function syntax (key: string, position: number, reason: string, label = LABEL): { code: string, message: string } {
  return { code: SYNTAX, message: `${label}: invalid runtime expression in "${key}" at position ${position}: ${reason}` }
}

function undeclared (text: string, position: number, fault: string): { code: string, message: string } {
  return { code: UNDECLARED, message: `${LABEL}: runtime expression "${text}" at position ${position} ${fault}` }
}

/** Whether `pointer` ('/a/0') resolves in `body`, as `$request.body#<pointer>` checks it. */
function declared (body: unknown, pointer: string, resolveRef?: (ref: string) => unknown): boolean {
  try {
    compileCallbackKey(`{$request.body#${pointer}}`, parent({ body, ...(resolveRef === undefined ? {} : { resolveRef }) }))
    return true
  } catch (error) {
    if ((error as { code: string }).code === UNDECLARED) return false
    throw error
  }
}

function context (partial: Partial<EvaluationContext> = {}): EvaluationContext {
  return { url: '/invoices/?callback_url=https%3A%2F%2Fx.test', method: 'POST', request: {}, ...partial }
}

const TCHARS = "!#$%&'*+-.^_`|~09azAZ"

test('parseExpression: every production of the grammar', async (t) => {
  const valid: Array<[string, RuntimeExpression]> = [
    ['$url', { type: 'url' }],
    ['$method', { type: 'method' }],
    ['$statusCode', { type: 'statusCode' }],
    ['$request.header.X-Signature', { type: 'request', source: 'header', name: 'X-Signature' }],
    [`$request.header.${TCHARS}`, { type: 'request', source: 'header', name: TCHARS }],
    ['$response.header.Location', { type: 'response', source: 'header', name: 'Location' }],
    ['$request.query.callback_url', { type: 'request', source: 'query', name: 'callback_url' }],
    ['$request.query.a b/c?{}#~.$', { type: 'request', source: 'query', name: 'a b/c?{}#~.$' }],
    ['$request.query.\u0001\t\u007f', { type: 'request', source: 'query', name: '\u0001\t\u007f' }],
    ['$response.query.x', { type: 'response', source: 'query', name: 'x' }],
    ['$request.path.id', { type: 'request', source: 'path', name: 'id' }],
    ['$response.path.id', { type: 'response', source: 'path', name: 'id' }],
    ['$request.body', { type: 'request', source: 'body', pointer: undefined }],
    ['$request.body#', { type: 'request', source: 'body', pointer: [] }],
    ['$request.body#/', { type: 'request', source: 'body', pointer: [''] }],
    ['$request.body#/id', { type: 'request', source: 'body', pointer: ['id'] }],
    ['$request.body#/a/0/b', { type: 'request', source: 'body', pointer: ['a', '0', 'b'] }],
    ['$request.body#/a~1b/c~0d', { type: 'request', source: 'body', pointer: ['a/b', 'c~d'] }],
    ['$request.body#/~01/~10', { type: 'request', source: 'body', pointer: ['~1', '/0'] }],
    ['$request.body#//x/', { type: 'request', source: 'body', pointer: ['', 'x', ''] }],
    ['$request.body#/é/😀/{}#.', { type: 'request', source: 'body', pointer: ['é', '😀', '{}#.'] }],
    ['$response.body', { type: 'response', source: 'body', pointer: undefined }],
    ['$response.body#/data/url', { type: 'response', source: 'body', pointer: ['data', 'url'] }]
  ]
  for (const [text, expected] of valid) {
    const parsed = parseExpression(text)
    t.strictSame(parsed, expected, text)
    t.equal(formatExpression(parsed), text, `${text} is canonical`)
    t.strictSame(parseExpression(formatExpression(parsed)), parsed, `${text} round-trips`)
  }
})

test('parseExpression: every way to break the grammar, with its position', async (t) => {
  const header = 'expected a header name character (a letter, a digit or one of !#$%&\'*+-.^_`|~)'
  const char = 'expected an ASCII character (CHAR) in the parameter name'
  const invalid: Array<[string, number, string]> = [
    ['', 0, 'expected "$" to start a runtime expression'],
    ['url', 0, 'expected "$" to start a runtime expression'],
    ['{$url}', 0, 'expected "$" to start a runtime expression'],
    ['$', 1, 'expected "url", "method", "statusCode", "request." or "response." after "$"'],
    ['$URL', 1, 'expected "url", "method", "statusCode", "request." or "response." after "$"'],
    ['$callback_url', 1, 'expected "url", "method", "statusCode", "request." or "response." after "$"'],
    ['$urlx', 4, 'expected the end of the expression after "$url"'],
    ['$method/', 7, 'expected the end of the expression after "$method"'],
    ['$statusCodes', 11, 'expected the end of the expression after "$statusCode"'],
    ['$request', 8, 'expected "." after "$request"'],
    ['$requests.body', 8, 'expected "." after "$request"'],
    ['$response#/a', 9, 'expected "." after "$response"'],
    ['$request.', 9, 'expected "header.", "query.", "path." or "body" after "$request."'],
    ['$request.header', 9, 'expected "header.", "query.", "path." or "body" after "$request."'],
    ['$request.headers.x', 9, 'expected "header.", "query.", "path." or "body" after "$request."'],
    ['$request.Query.x', 9, 'expected "header.", "query.", "path." or "body" after "$request."'],
    ['$response.cookie.x', 10, 'expected "header.", "query.", "path." or "body" after "$response."'],
    ['$request.header.', 16, 'expected a name after "$request.header."'],
    ['$response.header.', 17, 'expected a name after "$response.header."'],
    ['$request.header.a b', 17, `${header}, found " "`],
    ['$request.header.x:y', 17, `${header}, found ":"`],
    ['$request.header.x/y', 17, `${header}, found "/"`],
    ['$request.header.é', 16, `${header}, found "é"`],
    ['$request.query.', 15, 'expected a name after "$request.query."'],
    ['$request.path.', 14, 'expected a name after "$request.path."'],
    ['$response.query.', 16, 'expected a name after "$response.query."'],
    ['$request.query.café', 18, `${char}, found "é"`],
    ['$request.query.a😀', 16, `${char}, found "😀"`],
    ['$request.path.a\u0000', 15, `${char}, found "\\u0000"`],
    ['$request.body.id', 13, 'expected "#" or the end of the expression after "$request.body"'],
    ['$request.bodyx', 13, 'expected "#" or the end of the expression after "$request.body"'],
    ['$response.body/x', 14, 'expected "#" or the end of the expression after "$response.body"'],
    ['$request.body#id', 14, 'expected "/" or the end of the expression after "#"'],
    ['$request.body#/a~2', 16, 'expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"'],
    ['$request.body#/a/b~', 18, 'expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"'],
    ['$response.body#/~~0', 16, 'expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"']
  ]
  for (const [text, position, reason] of invalid) {
    t.strictSame(failure(() => parseExpression(text, LABEL)), syntax(text, position, reason), JSON.stringify(text))
  }
  t.strictSame(
    failure(() => parseExpression('$x')),
    syntax('$x', 1, 'expected "url", "method", "statusCode", "request." or "response." after "$"', 'fastify-openapi-callbacks'),
    'the label defaults to the package name'
  )
})

test('formatExpression escapes pointer tokens and keeps an empty pointer apart from none', async (t) => {
  const expressions: Array<[RuntimeExpression, string]> = [
    [{ type: 'request', source: 'body', pointer: ['a/b', '~', '', '~1'] }, '$request.body#/a~1b/~0//~01'],
    [{ type: 'response', source: 'body', pointer: [] }, '$response.body#'],
    [{ type: 'response', source: 'body', pointer: undefined }, '$response.body'],
    [{ type: 'request', source: 'path', name: 'id' }, '$request.path.id'],
    [{ type: 'statusCode' }, '$statusCode']
  ]
  for (const [expression, text] of expressions) {
    t.equal(formatExpression(expression), text)
    t.strictSame(parseExpression(formatExpression(expression)), expression)
  }
})

test('compileCallbackKey splits a key into literals and expressions', async (t) => {
  const route = parent({ params: { type: 'object', properties: { id: { type: 'string' } } } })
  const template = compileCallbackKey('https://x.test/{$request.path.id}/{$method}?at={$statusCode}&u={$url}', route)
  t.equal(template.key, 'https://x.test/{$request.path.id}/{$method}?at={$statusCode}&u={$url}')
  t.strictSame(template.expressions, [
    { type: 'request', source: 'path', name: 'id' }, { type: 'method' }, { type: 'statusCode' }, { type: 'url' }
  ])
  t.equal(template.needsResponse, true)

  const fixed = compileCallbackKey('https://x.test/hook?a=$url', parent())
  t.equal(fixed.key, 'https://x.test/hook?a=$url', 'a key without braces is a fixed URL, and "$" inside it is literal')
  t.strictSame(fixed.expressions, [])
  t.equal(fixed.needsResponse, false)
  t.strictSame(fixed.evaluate(context()), { ok: true, url: 'https://x.test/hook?a=$url' })

  const bare = compileCallbackKey('$request.query.a{b}', parent({ querystring: { properties: { 'a{b}': {} } } }))
  t.equal(bare.key, '$request.query.a{b}', 'a bare key is one expression, braces and all')
  t.strictSame(bare.expressions, [{ type: 'request', source: 'query', name: 'a{b}' }])

  const adjacent = compileCallbackKey('{$url}{$method}', parent())
  t.equal(adjacent.key, '{$url}{$method}')
  t.equal(adjacent.needsResponse, false)
})

test('compileCallbackKey: braces and expression syntax, with positions in the key as written', async (t) => {
  const invalid: Array<[string, number, string]> = [
    ['', 0, 'expected a URL or a runtime expression, found an empty key'],
    ['}', 0, 'found "}" without an opening "{"'],
    ['a}b{$url}', 1, 'found "}" without an opening "{"'],
    ['{$url}}', 6, 'found "}" without an opening "{"'],
    ['{$url}/x}', 8, 'found "}" without an opening "{"'],
    ['{$url', 0, 'found "{" without a closing "}"'],
    ['{$url}/{$method', 7, 'found "{" without a closing "}"'],
    ['{{$url}}', 1, 'expected "}" before another "{": expressions cannot be nested'],
    ['{$url{x}}', 5, 'expected "}" before another "{": expressions cannot be nested'],
    ['x/{$url{', 7, 'expected "}" before another "{": expressions cannot be nested'],
    ['{}', 1, 'expected a runtime expression between "{" and "}"'],
    ['https://x.test/{}', 16, 'expected a runtime expression between "{" and "}"'],
    ['{url}', 1, 'expected "$" to start a runtime expression'],
    ['https://x.test/{id}', 16, 'expected "$" to start a runtime expression'],
    ['{$url}/{$request}', 16, 'expected "." after "$request"'],
    ['{$1abc}', 2, 'expected "url", "method", "statusCode", "request." or "response." after "$"'],
    ['{$callback url}', 2, 'expected "url", "method", "statusCode", "request." or "response." after "$"'],
    ['{$url}/{$request.body#/a~2}', 24, 'expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"'],
    ['x/{$request.header.a b}', 20, 'expected a header name character (a letter, a digit or one of !#$%&\'*+-.^_`|~), found " "'],
    ['$request.query.', 15, 'expected a name after "$request.query."'],
    ['$url/x', 4, 'expected the end of the expression after "$url"'],
    ['{$request.body.}', 15, 'expected a property name after "."'],
    ['x{$request.body.a..b}', 18, 'expected a property name after "."'],
    ['$response.body.a.', 17, 'expected a property name after "."']
  ]
  for (const [key, position, reason] of invalid) {
    t.strictSame(failure(() => compileCallbackKey(key, parent())), syntax(key, position, reason), JSON.stringify(key))
  }
})

test('FastAPI\'s forms are normalised into valid keys', async (t) => {
  const Invoice = Type.Object({
    id: Type.String(),
    title: Type.Optional(Type.String()),
    customer: Type.String(),
    total: Type.Number()
  })
  const route = parent({
    querystring: Type.Object({ callback_url: Type.Optional(Type.String({ format: 'uri' })) }),
    body: Invoice
  })
  const invoice = compileCallbackKey('{$callback_url}/invoices/{$request.body.id}', route)
  t.equal(invoice.key, '{$request.query.callback_url}/invoices/{$request.body#/id}', 'the invoice example')
  t.strictSame(invoice.expressions, [
    { type: 'request', source: 'query', name: 'callback_url' },
    { type: 'request', source: 'body', pointer: ['id'] }
  ])
  t.equal(invoice.needsResponse, false)
  t.strictSame(parseExpression('$request.body#/id'), invoice.expressions[1], 'the normalised key parses as it is')

  const nested = parent({
    body: { type: 'object', properties: { a: { type: 'object', properties: { b: {}, 'c/d~': {} } } } },
    response: { 200: { type: 'object', properties: { data: { type: 'object', properties: { url: { type: 'string' } } } } } }
  })
  t.equal(compileCallbackKey('x/{$request.body.a.b}', nested).key, 'x/{$request.body#/a/b}')
  t.equal(compileCallbackKey('x/{$request.body.a.c/d~}', nested).key, 'x/{$request.body#/a/c~1d~0}', 'tokens are escaped')
  const response = compileCallbackKey('$response.body.data.url', nested)
  t.equal(response.key, '$response.body#/data/url', 'a bare key too')
  t.equal(response.needsResponse, true)
  t.equal(compileCallbackKey('$callback_url', route).key, '$request.query.callback_url', 'a bare parameter')
  t.equal(compileCallbackKey('{$url}/{$method}/{$statusCode}', parent()).key, '{$url}/{$method}/{$statusCode}', 'keywords are not parameters')
})

test('FastAPI\'s {$name} is the query parameter, else the header, else the path parameter', async (t) => {
  const named = (name: string): unknown => ({ type: 'object', properties: { [name]: { type: 'string' } } })
  const everywhere = parent({ querystring: named('callback_url'), headers: named('Callback_URL'), params: named('callback_url') })
  t.equal(compileCallbackKey('{$callback_url}', everywhere).key, '{$request.query.callback_url}')
  const headerAndPath = parent({ querystring: named('other'), headers: named('Callback_URL'), params: named('callback_url') })
  t.equal(compileCallbackKey('{$callback_url}', headerAndPath).key, '{$request.header.callback_url}', 'headers match case-insensitively')
  const pathOnly = parent({ querystring: named('other'), headers: named('other'), params: named('callback_url') })
  t.equal(compileCallbackKey('{$callback_url}', pathOnly).key, '{$request.path.callback_url}')
  t.equal(compileCallbackKey('{$callback-url}', parent({ querystring: named('callback-url') })).key, '{$request.query.callback-url}')
  t.equal(compileCallbackKey('{$Callback_url}', parent({ querystring: named('Callback_url') })).key, '{$request.query.Callback_url}')

  const fault = (name: string): string => `is neither a runtime expression nor a parameter of the route: declare "${name}" in its querystring, headers or params schema, or write a full expression such as "$request.query.${name}"`
  t.strictSame(failure(() => compileCallbackKey('{$callback_url}', parent())), undeclared('$callback_url', 1, fault('callback_url')))
  t.strictSame(
    failure(() => compileCallbackKey('https://x.test/{$Callback_url}', parent({ querystring: named('callback_url'), params: named('CALLBACK_URL') }))),
    undeclared('$Callback_url', 16, fault('Callback_url')),
    'query and path parameters are case-sensitive'
  )
  t.strictSame(
    failure(() => compileCallbackKey('{$requests}', parent())),
    undeclared('$requests', 1, fault('requests')),
    'a name that only starts like a keyword is a parameter'
  )
})

test('each expression is checked against the parent route', async (t) => {
  const object = (...names: string[]): unknown => ({ type: 'object', properties: Object.fromEntries(names.map(name => [name, { type: 'string' }])) })
  const route = parent({
    querystring: object('callback_url', 'X'),
    params: object('id'),
    headers: object('x-callback-url'),
    body: object('id', 'a/b'),
    response: {
      200: object('url'),
      201: { description: 'Created', content: { 'application/json': { schema: object('location') }, 'text/plain': {} } }
    }
  })
  const passing = [
    '{$url}', '{$method}', '{$statusCode}',
    '{$request.query.callback_url}', '{$request.query.X}', '{$request.path.id}',
    '{$request.header.x-callback-url}', '{$request.header.X-Callback-URL}',
    '{$request.body}', '{$request.body#}', '{$request.body#/id}', '{$request.body#/a~1b}',
    '{$response.body}', '{$response.body#/url}', '{$response.body#/location}',
    '{$response.header.Location}'
  ]
  for (const key of passing) t.equal(compileCallbackKey(key, route).key, key, key)
  t.equal(compileCallbackKey('{$response.header.X}{$statusCode}', parent()).key, '{$response.header.X}{$statusCode}', 'nothing to declare')

  const failing: Array<[string, ParentRoute, string]> = [
    ['{$request.query.x}', route, 'refers to query parameter "x", which the route\'s querystring schema does not declare'],
    ['{$request.query.callback_URL}', route, 'refers to query parameter "callback_URL", which the route\'s querystring schema does not declare'],
    ['{$request.query.x}', parent(), 'refers to query parameter "x", but the route has no querystring schema'],
    ['{$request.path.ID}', route, 'refers to path parameter "ID", which the route\'s params schema does not declare'],
    ['{$request.path.id}', parent(), 'refers to path parameter "id", but the route has no params schema'],
    ['{$request.header.x-other}', route, 'refers to header "x-other", which the route\'s headers schema does not declare'],
    ['{$request.header.x}', parent(), 'refers to header "x", but the route has no headers schema'],
    ['{$request.body#/nope}', route, 'refers to "#/nope" in the request body, which the route\'s body schema does not declare'],
    ['{$request.body#/id/x~0y}', route, 'refers to "#/id/x~0y" in the request body, which the route\'s body schema does not declare'],
    ['{$request.body}', parent(), 'refers to the request body, but the route has no body schema'],
    ['{$request.body#}', parent(), 'refers to the request body, but the route has no body schema'],
    ['{$request.body#/id}', parent(), 'refers to "#/id" in the request body, but the route has no body schema'],
    ['{$response.body#/nope}', route, 'refers to "#/nope" in the response body, which none of the route\'s response schemas declares'],
    ['{$response.body}', parent(), 'refers to the response body, but the route has no response schema'],
    ['{$response.body#/url}', parent({ response: {} }), 'refers to "#/url" in the response body, but the route has no response schema'],
    [
      '{$response.body}',
      parent({ response: { 204: { description: 'No Content', content: { 'application/json': {}, 'text/plain': null } } } }),
      'refers to the response body, but the route has no response schema'
    ],
    ['{$response.query.x}', route, 'refers to a query parameter of the response, which has none: use "$request.query.x"'],
    ['{$response.path.id}', route, 'refers to a path parameter of the response, which has none: use "$request.path.id"']
  ]
  for (const [key, route, fault] of failing) {
    t.strictSame(failure(() => compileCallbackKey(key, route)), undeclared(key.slice(1, -1), 1, fault), key)
  }
  t.strictSame(
    failure(() => compileCallbackKey('{$url}/invoices/{$request.body.nope}', route)),
    undeclared('$request.body.nope', 17, 'refers to "#/nope" in the request body, which the route\'s body schema does not declare'),
    'the expression as written, at its position in the key'
  )
  t.strictSame(
    failure(() => compileCallbackKey('$request.query.callback_url/x', route)),
    undeclared('$request.query.callback_url/x', 0, 'refers to query parameter "callback_url/x", which the route\'s querystring schema does not declare'),
    'a bare key is one expression'
  )
})

test('pointers resolve through properties', async (t) => {
  const body = { type: 'object', properties: { a: { type: 'object', properties: { b: {} } }, yes: true, no: false } }
  t.ok(declared(body, ''))
  t.ok(declared(body, '/a'))
  t.ok(declared(body, '/a/b'))
  t.notOk(declared(body, '/a/c'))
  t.notOk(declared(body, '/b'))
  t.ok(declared(body, '/yes'), 'a true schema')
  t.notOk(declared(body, '/yes/deeper'), 'a true schema declares nothing below it')
  t.notOk(declared(body, '/no'), 'a false schema')
  t.notOk(declared(body, '/a/b/c'), 'an empty schema declares nothing below it')
  t.notOk(declared({ properties: { constructor: {} } }, '/toString'), 'only own properties')
  t.notOk(declared({ properties: [] }, '/0'), 'properties that are not a map')
  t.notOk(declared(true, '/a'), 'a body schema of true')
})

test('pointers resolve through items, prefixItems and additionalItems', async (t) => {
  const list = { type: 'array', items: { type: 'object', properties: { id: {} } } }
  t.ok(declared(list, '/0/id'))
  t.ok(declared(list, '/12/id'))
  t.ok(declared(list, '/0'))
  t.notOk(declared(list, '/0/nope'))
  t.notOk(declared(list, '/-/id'), '"-" is past the end')
  t.notOk(declared(list, '/01/id'), 'no leading zeros')
  t.notOk(declared(list, '/x'))
  t.notOk(declared({ type: 'array' }, '/0'), 'no items')

  const prefix = { prefixItems: [{ properties: { a: {} } }, {}], items: { properties: { b: {} } } }
  t.ok(declared(prefix, '/0/a'))
  t.notOk(declared(prefix, '/0/b'))
  t.ok(declared(prefix, '/1'))
  t.ok(declared(prefix, '/2/b'), 'items after prefixItems')
  t.notOk(declared(prefix, '/2/a'))
  t.notOk(declared({ prefixItems: [{}], items: false }, '/1'))
  t.notOk(declared({ prefixItems: [{}] }, '/1'))

  const tuple = { items: [{ properties: { a: {} } }, {}], additionalItems: { properties: { c: {} } } }
  t.ok(declared(tuple, '/0/a'))
  t.ok(declared(tuple, '/1'))
  t.ok(declared(tuple, '/5/c'), 'additionalItems after a draft-07 tuple')
  t.notOk(declared(tuple, '/5/a'))
  t.notOk(declared({ items: [{}] }, '/1'))
})

test('pointers resolve through additionalProperties and patternProperties', async (t) => {
  const record = { type: 'object', additionalProperties: { properties: { x: {} } } }
  t.ok(declared(record, '/anything/x'))
  t.ok(declared(record, '/0/x'), 'any key, digits too')
  t.notOk(declared(record, '/anything/y'))
  t.ok(declared({ additionalProperties: true }, '/k'))
  t.notOk(declared({ additionalProperties: true }, '/k/deeper'))
  t.notOk(declared({ additionalProperties: false }, '/k'))
  const declaredFirst = { properties: { a: { properties: {} } }, additionalProperties: true }
  t.notOk(declared(declaredFirst, '/a/x'), 'a declared property is not an additional one')
  t.ok(declared(declaredFirst, '/b'))

  const patterns = { patternProperties: { '^x-': { properties: { v: {} } }, '^x-a': { properties: { w: {} } } }, additionalProperties: true }
  t.ok(declared(patterns, '/x-b/v'))
  t.ok(declared(patterns, '/x-a/w'), 'every matching pattern applies')
  t.notOk(declared(patterns, '/x-b/w'), 'a key matching a pattern is not an additional one')
  t.ok(declared(patterns, '/y'))
  const both = { properties: { a: { properties: { x: {} } } }, patternProperties: { '^a': { properties: { y: {} } } }, additionalProperties: { properties: { z: {} } } }
  t.ok(declared(both, '/a/x'))
  t.ok(declared(both, '/a/y'), 'patterns apply to declared properties too')
  t.notOk(declared(both, '/a/z'))
  t.ok(declared(both, '/b/z'))
  t.ok(declared({ patternProperties: { '^\\p{Lu}': {} } }, '/Éclair'), 'patterns are unicode regular expressions')
  t.notOk(declared({ patternProperties: { '(': {} } }, '/('), 'an invalid pattern matches nothing')
  t.notOk(declared({ patternProperties: [] }, '/x'))
})

test('pointers resolve through allOf, anyOf and oneOf', async (t) => {
  for (const keyword of ['allOf', 'anyOf', 'oneOf']) {
    const body = { [keyword]: [{ properties: { a: {} } }, { type: 'null' }, { properties: { b: { properties: { c: {} } } } }] }
    t.ok(declared(body, '/a'), keyword)
    t.ok(declared(body, '/b/c'), keyword)
    t.notOk(declared(body, '/c'), keyword)
    t.notOk(declared({ [keyword]: {} }, '/a'), `${keyword} that is not a list`)
  }
  t.ok(declared({ properties: { a: {} }, anyOf: [{ properties: { b: {} } }] }, '/a'), 'own keywords and branches both count')
})

test('pointers resolve through local $refs, with cycles guarded', async (t) => {
  const defs = {
    $defs: { Line: { properties: { sku: {} } }, 'A B': { properties: { x: {} } }, 'a/b~': { properties: { y: {} } }, T: true },
    definitions: { Old: { properties: { legacy: {} } } },
    properties: {
      line: { $ref: '#/$defs/Line' },
      old: { $ref: '#/definitions/Old' },
      spaced: { $ref: '#/$defs/A%20B' },
      escaped: { $ref: '#/$defs/a~1b~0' },
      copy: { $ref: '#/properties/line' },
      parent: { $ref: '#' },
      anything: { $ref: '#/$defs/T' },
      anchor: { $ref: '#Line' },
      broken: { $ref: '#/$defs/%E0%A4%A' },
      missing: { $ref: '#/$defs/Missing' },
      throughList: { $ref: '#/$defs/Line/properties/sku/0' }
    }
  }
  t.ok(declared(defs, '/line/sku'), '#/$defs')
  t.ok(declared(defs, '/old/legacy'), '#/definitions')
  t.ok(declared(defs, '/spaced/x'), 'percent-encoded fragment')
  t.ok(declared(defs, '/escaped/y'), '~1 and ~0 in a fragment')
  t.ok(declared(defs, '/copy/sku'), 'any location in the root schema')
  t.ok(declared(defs, '/parent/parent/line/sku'), 'the root itself')
  t.notOk(declared(defs, '/parent/nope'))
  t.ok(declared(defs, '/anything'))
  t.notOk(declared(defs, '/anything/x'))
  t.notOk(declared(defs, '/anchor/sku'), 'anchors are not supported')
  t.notOk(declared(defs, '/broken/x'), 'a malformed fragment')
  t.notOk(declared(defs, '/missing/x'))
  t.notOk(declared(defs, '/throughList/x'))
  t.ok(declared({ $ref: '#/$defs/A', $defs: { A: { properties: { a: {} } } }, properties: { extra: {} } }, '/extra'), 'siblings of $ref')
  t.ok(declared({ $ref: '#/$defs/A', $defs: { A: { properties: { a: {} } } }, properties: { extra: {} } }, '/a'))

  t.notOk(declared({ $ref: '#' }, '/a'), 'a schema that is its own $ref')
  t.notOk(declared({ $defs: { A: { $ref: '#/$defs/B' }, B: { $ref: '#/$defs/A' } }, $ref: '#/$defs/A' }, '/x'), 'two $refs in a cycle')
  t.notOk(declared({ allOf: [{ $ref: '#' }] }, '/x'), 'a cycle through allOf')
  t.ok(declared({ anyOf: [{ $ref: '#' }, { properties: { x: {} } }] }, '/x'), 'a cycle does not hide another branch')
})

test('pointers resolve through $refs to embedded $ids and to shared schemas', async (t) => {
  const leaf = { type: 'string' }
  const embedded = {
    properties: {
      a: { $id: 'A', $defs: { X: { properties: { x: {} } } }, properties: { inner: { $ref: '#/$defs/X' } } },
      b: { $ref: 'A' },
      c: { $ref: 'A#/properties/inner' },
      d: { $ref: 'H' },
      e: { $ref: 'Missing' },
      f: leaf,
      g: leaf,
      h: { $id: 'H#', properties: { z: {} } }
    }
  }
  t.ok(declared(embedded, '/a/inner/x'), '#… inside an embedded resource is relative to it')
  t.ok(declared(embedded, '/b/inner/x'), 'a $ref to an embedded $id')
  t.ok(declared(embedded, '/c/x'), 'an embedded $id with a fragment')
  t.ok(declared(embedded, '/d/z'), 'an $id ending in "#"')
  const asked: string[] = []
  t.notOk(declared(embedded, '/e/x', ref => { asked.push(ref); return undefined }))
  t.strictSame(asked, ['Missing'], 'an id found nowhere in the schema is asked of the shared schemas')

  const shared: Record<string, unknown> = {
    Invoice: {
      $id: 'Invoice',
      $defs: { Line: { properties: { sku: {} } } },
      properties: { id: {}, lines: { type: 'array', items: { $ref: '#/$defs/Line' } }, customer: { $ref: 'Customer#' } }
    },
    Customer: { $id: 'Customer', properties: { email: {} } },
    'http://x.test/y.json': { properties: { a: { properties: { b: {} } } } },
    Ping: { $ref: 'Pong' },
    Pong: { $ref: 'Ping' }
  }
  const resolveRef = (ref: string): unknown => { asked.push(ref); return shared[ref] }
  asked.length = 0
  t.ok(declared({ $ref: 'Invoice#' }, '/id', resolveRef))
  t.strictSame(asked, ['Invoice'], 'the shared schema is asked for by its id')
  t.ok(declared({ $ref: 'Invoice' }, '/lines/3/sku', resolveRef), '#/$defs inside a shared schema is relative to it')
  t.ok(declared({ $ref: 'Invoice' }, '/customer/email', resolveRef), 'a shared schema referring to another one')
  t.notOk(declared({ $ref: 'Invoice' }, '/customer/name', resolveRef))
  t.ok(declared({ $ref: 'http://x.test/y.json#/properties/a' }, '/b', resolveRef), 'a URI with a fragment')
  t.notOk(declared({ $ref: 'Ping' }, '/x', resolveRef), 'shared schemas in a cycle')
  t.notOk(declared({ $ref: 'Nowhere' }, '/x', resolveRef))

  const route = parent({
    querystring: { $ref: 'Query#' },
    headers: { allOf: [{ $ref: 'Headers' }] },
    resolveRef: (ref) => ({
      Query: { properties: { callback_url: {} } },
      Headers: { properties: { 'X-Callback': {} } }
    })[ref]
  })
  t.equal(compileCallbackKey('{$callback_url}', route).key, '{$request.query.callback_url}', 'parameters behind $refs')
  t.equal(compileCallbackKey('{$request.header.x-callback}', route).key, '{$request.header.x-callback}')
})

test('TypeBox 0.34 (@sinclair/typebox) schemas', async (t) => {
  const Line = Type.Object({ sku: Type.String() }, { $id: 'Line' })
  const Invoice = Type.Object({ id: Type.String(), lines: Type.Array(Type.Ref('Line')) }, { $id: 'Invoice' })
  const shared: Record<string, unknown> = { Line, Invoice }
  const resolveRef = (ref: string): unknown => shared[ref]
  t.ok(declared(Type.Ref('Invoice'), '/id', resolveRef), 'Type.Ref')
  t.ok(declared(Type.Ref('Invoice'), '/lines/0/sku', resolveRef), 'Type.Array of a Type.Ref')
  t.notOk(declared(Type.Ref('Invoice'), '/lines/0/qty', resolveRef))
  t.ok(declared(Type.Array(Line), '/1/sku'), 'Type.Array')
  const union = Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Number() }), Type.Null()])
  t.ok(declared(union, '/a'), 'Type.Union')
  t.ok(declared(union, '/b'))
  t.notOk(declared(union, '/c'))
  const intersect = Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Object({ c: Type.String() }) })])
  t.ok(declared(intersect, '/a'), 'Type.Intersect')
  t.ok(declared(intersect, '/b/c'))
  t.notOk(declared(intersect, '/b/d'))
  t.ok(declared(Type.Record(Type.String(), Type.Object({ x: Type.String() })), '/any/x'), 'Type.Record')
  const tuple = Type.Tuple([Type.String(), Type.Object({ y: Type.String() })])
  t.ok(declared(tuple, '/1/y'), 'Type.Tuple')
  t.notOk(declared(tuple, '/2'))
  const Node = Type.Recursive(This => Type.Object({ id: Type.String(), next: Type.Optional(This) }), { $id: 'Node' })
  t.ok(declared(Node, '/next/next/id'), 'Type.Recursive')
  t.notOk(declared(Node, '/next/nope'))
  const Headers = Type.Object({ 'X-Callback-Url': Type.String() })
  t.equal(compileCallbackKey('{$x-callback-url}/x', parent({ headers: Headers })).key, '{$request.header.x-callback-url}/x')
  t.equal(
    compileCallbackKey('{$callback_url}', parent({ querystring: Type.Object({ callback_url: Type.Optional(Type.String()) }) })).key,
    '{$request.query.callback_url}'
  )
})

test('TypeBox 1.x (typebox) schemas', async (t) => {
  const Line = Type1.Object({ sku: Type1.String() }, { $id: 'Line' })
  const Invoice = Type1.Object({ id: Type1.String(), lines: Type1.Array(Type1.Ref('Line')) }, { $id: 'Invoice' })
  const shared: Record<string, unknown> = { Line, Invoice }
  const resolveRef = (ref: string): unknown => shared[ref]
  t.ok(declared(Type1.Ref('Invoice'), '/id', resolveRef), 'Type.Ref')
  t.ok(declared(Type1.Ref('Invoice'), '/lines/0/sku', resolveRef), 'Type.Array of a Type.Ref')
  t.notOk(declared(Type1.Ref('Invoice'), '/lines/0/qty', resolveRef))
  t.ok(declared(Type1.Array(Line), '/1/sku'), 'Type.Array')
  const union = Type1.Union([Type1.Object({ a: Type1.String() }), Type1.Object({ b: Type1.Number() }), Type1.Null()])
  t.ok(declared(union, '/a'), 'Type.Union')
  t.ok(declared(union, '/b'))
  t.notOk(declared(union, '/c'))
  const intersect = Type1.Intersect([Type1.Object({ a: Type1.String() }), Type1.Object({ b: Type1.Object({ c: Type1.String() }) })])
  t.ok(declared(intersect, '/a'), 'Type.Intersect')
  t.ok(declared(intersect, '/b/c'))
  t.notOk(declared(intersect, '/b/d'))
  t.ok(declared(Type1.Record(Type1.String(), Type1.Object({ x: Type1.String() })), '/any/x'), 'Type.Record')
  const tuple = Type1.Tuple([Type1.String(), Type1.Object({ y: Type1.String() })])
  t.ok(declared(tuple, '/1/y'), 'Type.Tuple')
  t.notOk(declared(tuple, '/2'))
  const Node = Type1.Cyclic({ Node: Type1.Object({ id: Type1.String(), next: Type1.Optional(Type1.Ref('Node')) }) }, 'Node')
  t.ok(declared(Node, '/next/next/id'), 'Type.Cyclic: $refs to an $id inside $defs')
  t.notOk(declared(Node, '/next/nope'))
  const Headers = Type1.Object({ 'X-Callback-Url': Type1.String() })
  t.equal(compileCallbackKey('{$x-callback-url}/x', parent({ headers: Headers })).key, '{$request.header.x-callback-url}/x')
  t.equal(
    compileCallbackKey('{$callback_url}', parent({ querystring: Type1.Object({ callback_url: Type1.Optional(Type1.String()) }) })).key,
    '{$request.query.callback_url}'
  )
})

test('evaluate: $url, $method and $statusCode', async (t) => {
  const template = compileCallbackKey('{$url}', parent())
  t.strictSame(template.evaluate(context()), { ok: true, url: '/invoices/?callback_url=https%3A%2F%2Fx.test' }, 'a first piece is raw')
  t.strictSame(template.evaluate(context({ url: '' })), { ok: false, missing: '$url' })
  const later = compileCallbackKey('https://x.test/{$method}/{$statusCode}?from={$url}', parent())
  t.strictSame(
    later.evaluate(context({ response: { statusCode: 201 } })),
    { ok: true, url: 'https://x.test/POST/201?from=%2Finvoices%2F%3Fcallback_url%3Dhttps%253A%252F%252Fx.test' }
  )
  t.strictSame(later.evaluate(context()), { ok: false, missing: '$statusCode' }, 'no response yet')
  t.strictSame(later.evaluate(context({ method: '' })), { ok: false, missing: '$method' }, 'the first missing expression')
})

test('evaluate: query and path parameters, case-sensitive', async (t) => {
  const route = parent({
    querystring: { properties: { callback_url: {}, tenant: {} } },
    params: { properties: { id: {} } }
  })
  const template = compileCallbackKey('{$callback_url}/t/{$request.query.tenant}/{$request.path.id}', route)
  const query = Object.assign(Object.create(null) as Record<string, unknown>, { callback_url: 'https://x.test/cb b', tenant: 'a/b c' })
  t.strictSame(
    template.evaluate(context({ request: { query, params: { id: 7 } } })),
    { ok: true, url: 'https://x.test/cb b/t/a%2Fb%20c/7' },
    'the base URL is raw; later values are percent-encoded'
  )
  // the rest of the template would become the base URL's query, or its fragment
  for (const base of ['https://x.test/cb?token=a', 'https://x.test/cb#a', 'https://x.test?']) {
    t.throws(() => template.evaluate(context({ request: { query: { callback_url: base, tenant: 't' }, params: { id: 7 } } })), {
      code: 'FST_OPENAPI_CALLBACKS_INVALID_URL',
      message: 'Invalid callback URL: the base URL that {$request.query.callback_url} gives has a query or fragment, and the template goes on after it, which would move the request out of its template "{$request.query.callback_url}/t/{$request.query.tenant}/{$request.path.id}"'
    }, base)
  }
  t.strictSame(template.evaluate(context({ request: { params: { id: 7 } } })), { ok: false, missing: '$request.query.callback_url' })
  t.strictSame(
    template.evaluate(context({ request: { query: { CALLBACK_URL: 'https://x.test', tenant: 't' }, params: { id: 7 } } })),
    { ok: false, missing: '$request.query.callback_url' }
  )
  t.strictSame(
    template.evaluate(context({ request: { query: { callback_url: 'https://x.test', tenant: '' }, params: { id: 7 } } })),
    { ok: false, missing: '$request.query.tenant' }, 'an empty value'
  )
  t.strictSame(
    template.evaluate(context({ request: { query: { callback_url: 'https://x.test', tenant: ['a', 'b'] }, params: { id: null } } })),
    { ok: false, missing: '$request.path.id' }, 'null'
  )
  t.strictSame(
    template.evaluate(context({ request: { query: { callback_url: 'https://x.test', tenant: ['a', 'b'] }, params: { id: true } } })),
    { ok: true, url: 'https://x.test/t/%5B%22a%22%2C%22b%22%5D/true' }, 'an array as JSON, a boolean as text'
  )
  t.strictSame(
    template.evaluate(context({ request: { query: { callback_url: 'https://x.test', tenant: 't' }, params: 'id' } })),
    { ok: false, missing: '$request.path.id' }, 'params that are not an object'
  )
})

test('evaluate: request and response headers, case-insensitive', async (t) => {
  const route = parent({ headers: { properties: { 'x-callback-url': {}, 'x-tenant': {} } } })
  const template = compileCallbackKey('{$request.header.X-Callback-URL}/{$request.header.x-tenant}', route)
  t.strictSame(
    template.evaluate(context({ request: { headers: { 'x-callback-url': 'https://x.test', 'x-tenant': 'a b' } } })),
    { ok: true, url: 'https://x.test/a%20b' }, 'Node\'s lowercase names'
  )
  t.strictSame(
    template.evaluate(context({ request: { headers: { 'X-Callback-Url': 'https://x.test', 'X-TENANT': 't' } } })),
    { ok: true, url: 'https://x.test/t' }, 'names in any case'
  )
  t.strictSame(
    template.evaluate(context({ request: { headers: { 'x-callback-url': ['https://a.test', 'https://b.test'], 'x-tenant': 't' } } })),
    { ok: true, url: 'https://a.test/t' }, 'the first of repeated values'
  )
  t.strictSame(
    template.evaluate(context({ request: { headers: { 'x-callback-url': [], 'x-tenant': 't' } } })),
    { ok: false, missing: '$request.header.X-Callback-URL' }
  )
  t.strictSame(template.evaluate(context({ request: { headers: { 'x-tenant': 't' } } })), { ok: false, missing: '$request.header.X-Callback-URL' })
  t.strictSame(template.evaluate(context()), { ok: false, missing: '$request.header.X-Callback-URL' }, 'no headers')

  const location = compileCallbackKey('{$response.header.Location}?s={$statusCode}', parent())
  t.equal(location.needsResponse, true)
  t.strictSame(
    location.evaluate(context({ response: { statusCode: 201, headers: { location: 'https://x.test/1' } } })),
    { ok: true, url: 'https://x.test/1?s=201' }
  )
  t.strictSame(location.evaluate(context({ response: { statusCode: 201 } })), { ok: false, missing: '$response.header.Location' })
  t.strictSame(location.evaluate(context()), { ok: false, missing: '$response.header.Location' }, 'no response')
})

test('evaluate: request and response bodies by JSON pointer', async (t) => {
  const body = {
    type: 'object',
    properties: {
      url: {},
      id: {},
      items: { type: 'array', items: { properties: { id: {} } } },
      list: { anyOf: [{ type: 'array', items: { properties: { id: {} } } }, { additionalProperties: { properties: { id: {} } } }] },
      'a/b': { properties: { '~': {} } }
    }
  }
  const route = parent({ body, response: { 200: body } })
  const url = (key: string, request: unknown, response?: unknown): unknown => compileCallbackKey(key, route).evaluate(context({
    request: { body: request },
    ...(response === undefined ? {} : { response: { statusCode: 200, body: response } })
  }))
  const x = 'https://x.test/'
  t.strictSame(url('$request.body#/url', { url: 'https://x.test/a b' }), { ok: true, url: 'https://x.test/a b' }, 'a bare key is raw')
  t.strictSame(url(`${x}{$request.body#/id}`, { id: 'a/b c?d#e' }), { ok: true, url: `${x}a%2Fb%20c%3Fd%23e` })
  t.strictSame(url(`${x}{$request.body#/id}`, { id: 42 }), { ok: true, url: `${x}42` })
  t.strictSame(url(`${x}{$request.body#/id}`, { id: 0 }), { ok: true, url: `${x}0` }, 'zero is a value')
  t.strictSame(url(`${x}{$request.body#/id}`, { id: false }), { ok: true, url: `${x}false` }, 'false is a value')
  t.strictSame(url(`${x}{$request.body#/id}`, { id: { a: 1 } }), { ok: true, url: `${x}%7B%22a%22%3A1%7D` }, 'an object as JSON')
  t.strictSame(url(`${x}{$request.body#/id}`, { id: null }), { ok: false, missing: '$request.body#/id' })
  t.strictSame(url(`${x}{$request.body#/id}`, { id: '' }), { ok: false, missing: '$request.body#/id' })
  t.strictSame(url(`${x}{$request.body#/id}`, {}), { ok: false, missing: '$request.body#/id' })
  t.strictSame(url(`${x}{$request.body#/id}`, undefined), { ok: false, missing: '$request.body#/id' }, 'no body')
  t.strictSame(url(`${x}{$request.body#/id}`, 'id'), { ok: false, missing: '$request.body#/id' }, 'a body that is not an object')
  t.strictSame(url(`${x}{$request.body#/id}`, { id: 'a\ud800b' }), { ok: true, url: `${x}a%EF%BF%BDb` }, 'a lone surrogate')
  t.strictSame(url(`${x}{$request.body.id}`, { id: 'x' }), { ok: true, url: `${x}x` }, 'FastAPI\'s form')
  t.strictSame(url(`${x}{$request.body#/items/1/id}`, { items: [{ id: 'a' }, { id: 'b' }] }), { ok: true, url: `${x}b` })
  t.strictSame(url(`${x}{$request.body#/items/2/id}`, { items: [{ id: 'a' }] }), { ok: false, missing: '$request.body#/items/2/id' })
  t.strictSame(url(`${x}{$request.body#/list/01/id}`, { list: { '01': { id: 'a' } } }), { ok: true, url: `${x}a` }, 'a map')
  t.strictSame(url(`${x}{$request.body#/list/01/id}`, { list: [{ id: 'a' }, { id: 'b' }] }), { ok: false, missing: '$request.body#/list/01/id' }, 'not an array index')
  t.strictSame(url(`${x}{$request.body#/a~1b/~0}`, { 'a/b': { '~': 'ok' } }), { ok: true, url: `${x}ok` })
  t.strictSame(url(`${x}{$request.body#/id}`, { id: undefined }), { ok: false, missing: '$request.body#/id' })
  t.strictSame(url('{$request.body}', 'https://x.test/whole'), { ok: true, url: 'https://x.test/whole' }, 'a whole string body')
  t.strictSame(url(`${x}{$request.body}`, { a: [1] }), { ok: true, url: `${x}%7B%22a%22%3A%5B1%5D%7D` }, 'a whole body as JSON')
  t.strictSame(url(`${x}{$request.body#}`, 7), { ok: true, url: `${x}7` })
  t.strictSame(url(`${x}{$request.body}`, ''), { ok: false, missing: '$request.body' })
  t.strictSame(url(`${x}?r={$response.body#/url}`, {}, { url: 'https://y.test/?a=1' }), { ok: true, url: `${x}?r=https%3A%2F%2Fy.test%2F%3Fa%3D1` })
  t.strictSame(url('{$response.body#/url}/x', {}, { url: 'https://y.test' }), { ok: true, url: 'https://y.test/x' })
  t.strictSame(url('{$response.body#/url}/x', { url: 'https://z.test' }), { ok: false, missing: '$response.body#/url' }, 'no response')
})

test('a template compiles once and evaluates many contexts', async (t) => {
  const route = parent({ querystring: { properties: { callback_url: {} } }, params: { properties: { id: {} } } })
  const template = compileCallbackKey('{$callback_url}/invoices/{$request.path.id}', route)
  const urls = ['https://a.test', 'https://b.test'].map((callbackUrl, id) => template.evaluate(context({
    request: { query: { callback_url: callbackUrl }, params: { id } }
  })))
  t.strictSame(urls, [{ ok: true, url: 'https://a.test/invoices/0' }, { ok: true, url: 'https://b.test/invoices/1' }])
})
