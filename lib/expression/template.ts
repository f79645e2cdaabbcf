import { ExpressionSyntaxError, UndeclaredExpressionError } from '../util/errors.js'

/** An OpenAPI runtime expression (OpenAPI 3.0.3 / 3.1.0, "Runtime Expressions"). */
export type RuntimeExpression =
  | { type: 'url' } | { type: 'method' } | { type: 'statusCode' }
  | { type: 'request' | 'response', source: 'header' | 'query' | 'path', name: string }
  | { type: 'request' | 'response', source: 'body', pointer: string[] | undefined } // decoded reference tokens; undefined = whole body

/** The parent route's schemas, as given in a Fastify route `schema` (plain JSON Schema objects, TypeBox or not). */
export interface ParentRoute {
  /** Where the key is declared, e.g. 'route POST /invoices/, callback "invoice_notification"': the prefix of every error message. */
  label: string
  querystring?: unknown
  params?: unknown
  headers?: unknown
  body?: unknown
  response?: Record<string, unknown>
  /**
   * The shared schema for a `$ref` ('Invoice#', 'Invoice', 'http://x/y.json#/properties/a'), or undefined.
   * This module asks only for ids, the part before '#' ('Invoice', 'http://x/y.json'), and walks the fragment itself,
   * so that `#/…` refs inside a shared schema resolve against that schema.
   */
  resolveRef: (ref: string) => unknown
}

export interface EvaluationContext {
  url: string
  method: string
  request: { params?: unknown, query?: unknown, headers?: Record<string, unknown>, body?: unknown }
  response?: { statusCode: number, headers?: Record<string, unknown>, body?: unknown }
}

export type Evaluation = { ok: true, url: string } | { ok: false, missing: string }

export interface CallbackUrlTemplate {
  /** The normalised key, valid under the OpenAPI grammar. */
  key: string
  /** The key's expressions, in order. */
  expressions: RuntimeExpression[]
  /** True if the key uses `$statusCode` or `$response.*`. */
  needsResponse: boolean
  /** Evaluates the template. Returns the URL, or which expression had no value. Never a URL with an empty piece. */
  evaluate (context: EvaluationContext): Evaluation
}

type Json = Record<string, unknown>
type BodyExpression = Extract<RuntimeExpression, { source: 'body' }>

const DEFAULT_LABEL = 'fastify-openapi-callbacks'
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/
const NAMED_SOURCES = [
  { source: 'header', invalid: /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/u, allowed: 'a header name character (a letter, a digit or one of !#$%&\'*+-.^_`|~)' },
  { source: 'query', invalid: /[\0\u0080-\u{10FFFF}]/u, allowed: 'an ASCII character (CHAR) in the parameter name' },
  { source: 'path', invalid: /[\0\u0080-\u{10FFFF}]/u, allowed: 'an ASCII character (CHAR) in the parameter name' }
] as const
// FastAPI writes `{$callback_url}` for a parameter of the route: any `$name` that is not one of these keywords
const KEYWORDS = new Set(['url', 'method', 'statusCode', 'request', 'response'])
const SHORTHAND_PARAMETER = /^\$([A-Za-z_][\w-]*)$/
// …and `{$request.body.id}` for `{$request.body#/id}`
const SHORTHAND_BODY = /^\$(request|response)\.body\./

/** Parses one expression without braces (e.g. '$request.body#/id'); throws ExpressionSyntaxError(label, text, position, reason). */
export function parseExpression (text: string, label: string = DEFAULT_LABEL): RuntimeExpression {
  return parseAt(text, 0, text, label)
}

/** The canonical text of an expression. parseExpression(formatExpression(e)) deep-equals e. */
export function formatExpression (expression: RuntimeExpression): string {
  if (!('source' in expression)) return '$' + expression.type
  const prefix = `$${expression.type}.${expression.source}`
  return expression.source === 'body' ? prefix + formatPointer(expression.pointer) : `${prefix}.${expression.name}`
}

/**
 * Parses a callback key ('{$request.query.callback_url}/invoices/{$request.body#/id}', or a bare expression such as
 * '$request.body#/url'), normalises FastAPI's shorthand, checks each expression against the parent route,
 * and compiles the evaluator once.
 */
export function compileCallbackKey (key: string, route: ParentRoute): CallbackUrlTemplate {
  const pieces = splitKey(key, route.label).map(piece => {
    if (typeof piece === 'string') return piece
    const expression = readExpression(piece.text, piece.position, key, route)
    checkDeclared(expression, piece.text, piece.position, route)
    return { expression, text: formatExpression(expression) }
  })
  const bare = key.startsWith('$')
  const expressions = pieces.flatMap(piece => typeof piece === 'string' ? [] : [piece.expression])
  // Values are percent-encoded, so that a value such as 'a/b' stays one path segment or one query value.
  // The exception is an expression that starts the key: it is the base URL (a `callback_url`), inserted as it is.
  const segments = pieces.map((piece, index) => typeof piece === 'string'
    ? piece
    : { text: piece.text, read: reader(piece.expression), raw: index === 0 })
  return {
    key: pieces.map(piece => typeof piece === 'string' ? piece : bare ? piece.text : `{${piece.text}}`).join(''),
    expressions,
    needsResponse: expressions.some(expression => expression.type === 'statusCode' || expression.type === 'response'),
    evaluate (context) {
      let url = ''
      for (const segment of segments) {
        if (typeof segment === 'string') {
          url += segment
          continue
        }
        const value = urlText(segment.read(context))
        if (value === undefined) return { ok: false, missing: segment.text }
        // encodeURIComponent throws on a lone surrogate: make the value well-formed first, as String#toWellFormed does
        url += segment.raw ? value : encodeURIComponent(value.replace(/\p{Cs}/gu, '\uFFFD'))
      }
      return { ok: true, url }
    }
  }
}

/** A key as literal text and expressions, each with the position of its `$` in the key. */
function splitKey (key: string, label: string): Array<string | { text: string, position: number }> {
  if (key === '') throw new ExpressionSyntaxError(label, key, 0, 'expected a URL or a runtime expression, found an empty key')
  if (key.startsWith('$')) return [{ text: key, position: 0 }]
  const pieces: Array<string | { text: string, position: number }> = []
  let index = 0
  while (index < key.length) {
    const open = key.indexOf('{', index)
    const literalEnd = open === -1 ? key.length : open
    const stray = key.indexOf('}', index)
    if (stray !== -1 && stray < literalEnd) throw new ExpressionSyntaxError(label, key, stray, 'found "}" without an opening "{"')
    if (literalEnd > index) pieces.push(key.slice(index, literalEnd))
    if (open === -1) break
    const close = key.indexOf('}', open + 1)
    const nested = key.indexOf('{', open + 1)
    if (nested !== -1 && (close === -1 || nested < close)) {
      throw new ExpressionSyntaxError(label, key, nested, 'expected "}" before another "{": expressions cannot be nested')
    }
    if (close === -1) throw new ExpressionSyntaxError(label, key, open, 'found "{" without a closing "}"')
    if (close === open + 1) throw new ExpressionSyntaxError(label, key, close, 'expected a runtime expression between "{" and "}"')
    pieces.push({ text: key.slice(open + 1, close), position: open + 1 })
    index = close + 1
  }
  return pieces
}

/** Parses `text`, found at `at` in `key`, by the OpenAPI grammar. */
function parseAt (text: string, at: number, key: string, label: string): RuntimeExpression {
  const fault = (index: number, reason: string): Error => new ExpressionSyntaxError(label, key, at + index, reason)
  if (!text.startsWith('$')) throw fault(0, 'expected "$" to start a runtime expression')
  for (const type of ['url', 'method', 'statusCode'] as const) {
    if (!text.startsWith('$' + type)) continue
    if (text.length > type.length + 1) throw fault(type.length + 1, `expected the end of the expression after "$${type}"`)
    return { type }
  }
  for (const type of ['request', 'response'] as const) {
    if (!text.startsWith('$' + type)) continue
    if (text[type.length + 1] !== '.') throw fault(type.length + 1, `expected "." after "$${type}"`)
    const start = type.length + 2
    const rest = text.slice(start)
    for (const { source, invalid, allowed } of NAMED_SOURCES) {
      if (!rest.startsWith(source + '.')) continue
      const nameAt = start + source.length + 1
      const name = text.slice(nameAt)
      if (name === '') throw fault(nameAt, `expected a name after "$${type}.${source}."`)
      const bad = invalid.exec(name)
      if (bad !== null) throw fault(nameAt + bad.index, `expected ${allowed}, found ${JSON.stringify(bad[0])}`)
      return { type, source, name }
    }
    if (!rest.startsWith('body')) throw fault(start, `expected "header.", "query.", "path." or "body" after "$${type}."`)
    const hash = start + 4
    if (text.length === hash) return { type, source: 'body', pointer: undefined }
    if (text[hash] !== '#') throw fault(hash, `expected "#" or the end of the expression after "$${type}.body"`)
    return { type, source: 'body', pointer: parsePointer(text, hash + 1, fault) }
  }
  throw fault(1, 'expected "url", "method", "statusCode", "request." or "response." after "$"')
}

/** The reference tokens of the JSON pointer that starts at `from` in `text`. */
function parsePointer (text: string, from: number, fault: (index: number, reason: string) => Error): string[] {
  const pointer = text.slice(from)
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw fault(from, 'expected "/" or the end of the expression after "#"')
  const badEscape = /~(?![01])/.exec(pointer)
  if (badEscape !== null) {
    throw fault(from + badEscape.index, 'expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"')
  }
  return pointer.slice(1).split('/').map(decodeToken)
}

function decodeToken (token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~')
}

function formatPointer (pointer: readonly string[] | undefined): string {
  return pointer === undefined ? '' : '#' + pointer.map(token => '/' + token.replaceAll('~', '~0').replaceAll('/', '~1')).join('')
}

/** Parses one expression of a key, turning FastAPI's shorthand into the OpenAPI form. */
function readExpression (text: string, position: number, key: string, route: ParentRoute): RuntimeExpression {
  const parameter = SHORTHAND_PARAMETER.exec(text)?.[1]
  if (parameter !== undefined && !KEYWORDS.has(parameter)) return declaredParameter(parameter, text, position, route)
  const body = SHORTHAND_BODY.exec(text)
  if (body === null) return parseAt(text, position, key, route.label)
  const pointer: string[] = []
  let at = body[0].length
  for (const property of text.slice(at).split('.')) {
    if (property === '') throw new ExpressionSyntaxError(route.label, key, position + at, 'expected a property name after "."')
    pointer.push(property)
    at += property.length + 1
  }
  return { type: body[1] as 'request' | 'response', source: 'body', pointer }
}

/** FastAPI's `$callback_url`: the route's parameter of that name, looked up in the querystring, then headers, then params. */
function declaredParameter (name: string, text: string, position: number, route: ParentRoute): RuntimeExpression {
  if (declares(route.querystring, [name], route)) return { type: 'request', source: 'query', name }
  if (declares(route.headers, [name], route, true)) return { type: 'request', source: 'header', name }
  if (declares(route.params, [name], route)) return { type: 'request', source: 'path', name }
  throw new UndeclaredExpressionError(route.label, text, position,
    `is neither a runtime expression nor a parameter of the route: declare "${name}" in its querystring, headers or params schema, or write a full expression such as "$request.query.${name}"`)
}

/** Throws unless the parent route declares what the expression refers to. */
function checkDeclared (expression: RuntimeExpression, text: string, position: number, route: ParentRoute): void {
  const fault = checkFault(expression, route)
  if (fault !== undefined) throw new UndeclaredExpressionError(route.label, text, position, fault)
}

function checkFault (expression: RuntimeExpression, route: ParentRoute): string | undefined {
  if (!('source' in expression)) return undefined
  if (expression.type === 'response') {
    if (expression.source === 'header') return undefined
    if (expression.source === 'body') {
      const schemas = responseSchemas(route.response)
      const where = describeBody(expression, 'response body')
      if (schemas.length === 0) return `refers to ${where}, but the route has no response schema`
      return schemas.some(schema => declares(schema, expression.pointer ?? [], route))
        ? undefined
        : `refers to ${where}, which none of the route's response schemas declares`
    }
    return `refers to a ${expression.source} parameter of the response, which has none: use "$request.${expression.source}.${expression.name}"`
  }
  if (expression.source === 'body') {
    const where = describeBody(expression, 'request body')
    if (route.body === undefined) return `refers to ${where}, but the route has no body schema`
    return declares(route.body, expression.pointer ?? [], route) ? undefined : `refers to ${where}, which the route's body schema does not declare`
  }
  const { what, container } = ({
    header: { what: 'header', container: 'headers' },
    query: { what: 'query parameter', container: 'querystring' },
    path: { what: 'path parameter', container: 'params' }
  } as const)[expression.source]
  const schema = route[container]
  if (schema === undefined) return `refers to ${what} "${expression.name}", but the route has no ${container} schema`
  return declares(schema, [expression.name], route, expression.source === 'header')
    ? undefined
    : `refers to ${what} "${expression.name}", which the route's ${container} schema does not declare`
}

function describeBody (expression: BodyExpression, body: string): string {
  return expression.pointer === undefined || expression.pointer.length === 0
    ? `the ${body}`
    : `"${formatPointer(expression.pointer)}" in the ${body}`
}

/** The schemas of a Fastify `response` map, whose values are schemas or `{ description, content: { type: { schema } } }`. */
function responseSchemas (response: Record<string, unknown> | undefined): unknown[] {
  return Object.values(response ?? {}).flatMap(value => isObjectOrArray(value) && isObjectOrArray(value.content)
    ? Object.values(value.content).flatMap(media => isObjectOrArray(media) && media.schema !== undefined ? [media.schema] : [])
    : [value])
}

// Where `$ref`s resolve: `#…` in the current resource (the nearest schema with an `$id`), other ids in the document
// being walked (TypeBox's Cyclic and Recursive refer to embedded `$id`s), then among the route's shared schemas.
interface Scope {
  route: ParentRoute
  document: unknown
  resource: unknown
  ignoreCase: boolean
}

/** True if `schema` declares a value at `pointer`, through properties, items, composition and `$ref`s. */
function declares (schema: unknown, pointer: readonly string[], route: ParentRoute, ignoreCase = false): boolean {
  return resolves(schema, pointer, 0, { route, document: schema, resource: schema, ignoreCase }, new Set())
}

// `followed` holds the `$ref` targets entered since the last token was consumed: meeting one again is a cycle.
function resolves (schema: unknown, pointer: readonly string[], index: number, scope: Scope, followed: Set<unknown>): boolean {
  if (schema === true) return index === pointer.length
  if (!isObjectOrArray(schema)) return false
  if (index === pointer.length) return true
  const inner = typeof schema.$id === 'string' ? { ...scope, resource: schema } : scope
  if (children(schema, pointer[index]!, scope.ignoreCase).some(child => resolves(child, pointer, index + 1, inner, new Set()))) return true
  const branches = ['allOf', 'anyOf', 'oneOf'].flatMap(keyword => Array.isArray(schema[keyword]) ? schema[keyword] as unknown[] : [])
  if (branches.some(branch => resolves(branch, pointer, index, inner, followed))) return true
  if (typeof schema.$ref !== 'string') return false
  const target = followRef(schema.$ref, inner)
  if (target === undefined || followed.has(target.schema)) return false
  followed.add(target.schema)
  return resolves(target.schema, pointer, index, target.scope, followed)
}

/** The subschemas that apply to the value under `token`, as a JSON Schema validator would pick them. */
function children (schema: Json, token: string, ignoreCase: boolean): unknown[] {
  const found: unknown[] = []
  const properties = isObjectOrArray(schema.properties) ? schema.properties : {}
  const property = ignoreCase
    ? Object.keys(properties).find(name => name.toLowerCase() === token.toLowerCase())
    : (Object.hasOwn(properties, token) ? token : undefined)
  if (property !== undefined) found.push(properties[property])
  for (const [pattern, child] of Object.entries(isObjectOrArray(schema.patternProperties) ? schema.patternProperties : {})) {
    if (matches(pattern, token)) found.push(child)
  }
  if (found.length === 0) found.push(schema.additionalProperties)
  if (ARRAY_INDEX.test(token)) {
    const position = Number(token)
    // 2020-12 tuples are `prefixItems` then `items`; draft-07 tuples (TypeBox's) are an `items` array then `additionalItems`
    const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined
    if (tuple === undefined) found.push(schema.items)
    else found.push(position < tuple.length ? tuple[position] : Array.isArray(schema.prefixItems) ? schema.items : schema.additionalItems)
  }
  return found
}

function matches (pattern: string, token: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(token)
  } catch {
    return false
  }
}

/** The schema a `$ref` designates, and the scope its own `$ref`s resolve in; undefined if it designates nothing. */
function followRef (ref: string, scope: Scope): { schema: unknown, scope: Scope } | undefined {
  const hash = ref.indexOf('#')
  const id = hash === -1 ? ref : ref.slice(0, hash)
  const fragment = hash === -1 ? '' : ref.slice(hash + 1)
  let { document, resource } = scope
  if (id !== '') {
    resource = findResource(document, id, new Set())
    if (resource === undefined) {
      resource = scope.route.resolveRef(id)
      document = resource
    }
  }
  const schema = fragmentTarget(resource, fragment)
  return schema === undefined ? undefined : { schema, scope: { ...scope, document, resource } }
}

/** The schema with this `$id` (a trailing '#' ignored) inside `node`. */
function findResource (node: unknown, id: string, visited: Set<unknown>): unknown {
  if (!isObjectOrArray(node) || visited.has(node)) return undefined
  visited.add(node)
  if (typeof node.$id === 'string' && node.$id.replace(/#$/, '') === id) return node
  for (const value of Object.values(node)) {
    const found = findResource(value, id, visited)
    if (found !== undefined) return found
  }
  return undefined
}

/** Walks a `$ref` fragment ('', '/$defs/Node', URI-encoded) from the resource. Anchors ('#name') are not supported. */
function fragmentTarget (resource: unknown, fragment: string): unknown {
  if (fragment === '') return resource
  if (!fragment.startsWith('/')) return undefined
  let node = resource
  for (const token of fragment.slice(1).split('/')) {
    let name: string
    try {
      name = decodeToken(decodeURIComponent(token))
    } catch {
      return undefined
    }
    node = isObjectOrArray(node) && Object.hasOwn(node, name) ? node[name] : undefined
  }
  return node
}

/** Reads an expression's value from the context, compiled once per expression. */
function reader (expression: RuntimeExpression): (context: EvaluationContext) => unknown {
  switch (expression.type) {
    case 'url': return context => context.url
    case 'method': return context => context.method
    case 'statusCode': return context => context.response?.statusCode
  }
  const side = expression.type
  switch (expression.source) {
    case 'header': {
      // Node lowercases the names of incoming headers; a context built by hand may not
      const name = expression.name.toLowerCase()
      return context => {
        const headers = context[side]?.headers ?? {}
        const value = headers[Object.keys(headers).find(key => key.toLowerCase() === name) ?? name]
        return Array.isArray(value) ? value[0] : value
      }
    }
    // The checks leave `$response.query`/`$response.path` out, so these read the request
    case 'query': return context => property(context.request.query, expression.name)
    case 'path': return context => property(context.request.params, expression.name)
    case 'body': {
      const pointer = expression.pointer ?? []
      return context => pointer.reduce<unknown>((value, token) => Array.isArray(value)
        ? (ARRAY_INDEX.test(token) ? value[Number(token)] : undefined)
        : property(value, token), context[side]?.body)
    }
  }
}

function property (value: unknown, name: string): unknown {
  return isObjectOrArray(value) && Object.hasOwn(value, name) ? value[name] : undefined
}

/** A value as URL text: strings as they are, objects and arrays as JSON; undefined when there is none. */
function urlText (value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function isObjectOrArray (value: unknown): value is Json {
  return typeof value === 'object' && value !== null
}
