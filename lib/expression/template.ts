import { ExpressionSyntaxError, InvalidUrlError, UndeclaredExpressionError } from '../util/errors.js'
import { ARRAY_INDEX, formatExpression, formatPointer, parseAt, splitKey } from './grammar.js'
import type { BodyExpression, RuntimeExpression } from './grammar.js'
import { declares, isObjectOrArray } from './schema-pointer.js'

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
  /**
   * Evaluates the template. Returns the URL, or which expression had no value. Never a URL with an empty piece, nor
   * one where a value moved the request out of its template: throws FST_OPENAPI_CALLBACKS_INVALID_URL for a value that
   * makes a dot segment, or a base URL with a query or fragment that the rest of the template would be put into.
   */
  evaluate (context: EvaluationContext): Evaluation
}

// FastAPI writes `{$callback_url}` for a parameter of the route: any `$name` that is not one of these keywords
const KEYWORDS = new Set(['url', 'method', 'statusCode', 'request', 'response'])
const SHORTHAND_PARAMETER = /^\$([A-Za-z_][\w-]*)$/
// …and `{$request.body.id}` for `{$request.body#/id}`
const SHORTHAND_BODY = /^\$(request|response)\.body\./

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
  const normalised = pieces.map(piece => typeof piece === 'string' ? piece : bare ? piece.text : `{${piece.text}}`).join('')
  return {
    key: normalised,
    expressions,
    needsResponse: expressions.some(expression => expression.type === 'statusCode' || expression.type === 'response'),
    evaluate (context) {
      let url = ''
      // where each value lies in the URL, to check the path segments it touches
      const values: PlacedValue[] = []
      for (const segment of segments) {
        if (typeof segment === 'string') {
          url += segment
          continue
        }
        const value = urlText(segment.read(context))
        if (value === undefined) return { ok: false, missing: segment.text }
        const start = url.length
        // encodeURIComponent throws on a lone surrogate: make the value well-formed first, as String#toWellFormed does
        url += segment.raw ? value : encodeURIComponent(value.replace(/\p{Cs}/gu, '\uFFFD'))
        values.push({ expression: segment.text, start, end: url.length })
      }
      const fault = escapeFault(url, values)
      if (fault !== undefined) throw new InvalidUrlError(`${fault}, which would move the request out of its template "${normalised}"`)
      return { ok: true, url }
    }
  }
}

interface PlacedValue { expression: string, start: number, end: number }

// what the WHATWG URL parser removes from a path with the segment before it, or alone: ".", "..", and their
// percent-encoded forms in any case. No encoding of "." escapes it, so such a value is refused, not encoded
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i

/**
 * Why the values placed in `url` move it out of its template, if they do. A value is percent-encoded, so it adds no
 * "/", "\\", "?" or "#"; but alone, or next to the template's text or another value, it can make a dot segment. The
 * base URL that starts a template is inserted as it is: a query or fragment in it would take the rest of the template.
 */
function escapeFault (url: string, values: readonly PlacedValue[]): string | undefined {
  // only the base URL, inserted as it is, starts the URL
  const base = values[0]
  if (base !== undefined && base.start === 0 && base.end < url.length && /[?#]/.test(url.slice(0, base.end))) {
    return `the base URL that {${base.expression}} gives has a query or fragment, and the template goes on after it`
  }
  const pathEnd = url.search(/[?#]/)
  const path = pathEnd === -1 ? url : url.slice(0, pathEnd)
  // "\\" separates segments as "/" does in http(s) URLs
  let start = 0
  for (const segment of path.split(/[/\\]/)) {
    const end = start + segment.length
    const placed = DOT_SEGMENT.test(segment) ? values.find(value => value.start < end && start < value.end) : undefined
    if (placed !== undefined) return `the value of {${placed.expression}} makes the dot segment "${segment}" in the path`
    start = end + 1
  }
  return undefined
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
  if (declares(route.headers, [name], { ...route, ignoreCase: true })) return { type: 'request', source: 'header', name }
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
  return declares(schema, [expression.name], { ...route, ignoreCase: expression.source === 'header' })
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
        // own names only: a missing `constructor` header must not read Object
        const value = property(headers, Object.keys(headers).find(key => key.toLowerCase() === name) ?? name)
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
