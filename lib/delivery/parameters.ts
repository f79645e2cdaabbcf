import { describeDefinition } from '../definition/definition.js'
import { PLUGIN_HEADER } from '../definition/plugin-headers.js'
import type { OperationDefinition } from '../definition/definition.js'
import { readableSchema } from '../definition/schema-kind.js'
import { InvalidParametersError, ReservedHeaderError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/** What send(), enqueue() and fanOut() take besides the payload. */
export interface SendOptions {
  /** Header parameters the definition declares, and any other header to send. Values are sent as text. */
  headers?: Record<string, string | number | boolean>
  /** Query parameters the definition declares, appended to the target's URL. An array repeats the parameter. */
  query?: Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>
  /** Who receives it: handed to the `secretFor` option at each attempt, to sign with that subscriber's secret. */
  subscriber?: string
  /** The caller's key for this message: the same key (for the same callback or webhook) gives the same message id. */
  idempotencyKey?: string
}

/** Checks a JSON value against a schema; the faults, or undefined when it conforms. */
export type SchemaCheck = (value: unknown) => string[] | undefined

export interface PreparedParameters {
  /** Lower-case names, text values: the message keeps them as they go out. */
  headers: Record<string, string>
  /** `?a=1&b=2`, or '' for none. */
  query: string
  subscriber: string | undefined
  idempotencyKey: string | undefined
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 9110's field-value, without obs-text: visible ASCII, with spaces and tabs only between visible characters (a
// receiver strips them at either end). undici writes a value as Latin-1 bytes, so 'é' would go out as the one byte
// 0xE9, which no UTF-8 reader takes for it, and anything above U+00FF is refused by undici itself
const FIELD_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/
const OPTION_KEYS = new Set(['headers', 'query', 'subscriber', 'idempotencyKey'])

function isScalar (value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
}

/**
 * Checks and serialises the parameters of one send: the declared header and query parameters against their schemas
 * (the values as given: `attempt: 3` for an integer), the other headers by HTTP's rules. Throws
 * FST_OPENAPI_CALLBACKS_INVALID_PARAMETERS or FST_OPENAPI_CALLBACKS_RESERVED_HEADER; nothing is sent then.
 */
export function prepareParameters (
  definition: OperationDefinition,
  options: unknown,
  checks: { headers: SchemaCheck | undefined, query: SchemaCheck | undefined }
): PreparedParameters {
  // described only for an error: valid parameters build no text
  const label = (): string => describeDefinition(definition)
  const fail = (fault: string): never => { throw new InvalidParametersError(label(), fault) }
  if (options !== undefined && !isObject(options)) fail('the options must be an object: { headers?, query?, subscriber?, idempotencyKey? }')
  const given = (options ?? {}) as Json
  for (const key of Object.keys(given)) if (!OPTION_KEYS.has(key)) fail(`unknown option "${key}": expected headers, query, subscriber or idempotencyKey`)
  const { subscriber, idempotencyKey } = given
  if (subscriber !== undefined && (typeof subscriber !== 'string' || subscriber === '')) fail('subscriber must be a non-empty string')
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey === '')) fail('idempotencyKey must be a non-empty string')

  const { headers, values } = checkHeaders(given.headers, label, fail)
  check(checks.headers, declaredHeaders(readableSchema(definition.schema.headers, 'output'), values), 'headers', fail)

  if (given.query !== undefined && !isObject(given.query)) fail('query must be an object of parameter names and values')
  const search = given.query === undefined ? '' : serialiseQuery(given.query as Json, fail)
  check(checks.query, given.query ?? {}, 'query', fail)

  return { headers, query: search === '' ? '' : `?${search}`, subscriber: subscriber as string | undefined, idempotencyKey: idempotencyKey as string | undefined }
}

function serialiseQuery (given: Json, fail: (fault: string) => never): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(given)) {
    const values = Array.isArray(value) ? value : [value]
    if (!values.every(isScalar)) fail(`the query parameter "${name}" must be a string, a finite number, a boolean or an array of them`)
    for (const item of values) query.append(name, String(item))
  }
  return query.toString()
}

/**
 * Headers given by the app, for one message or for every one: lower-case names, text values, none the plugin owns.
 * `values` keeps them as given, for their schema.
 */
export function checkHeaders (given: unknown, label: () => string, fail: (fault: string) => never): { headers: Record<string, string>, values: Json } {
  const headers: Record<string, string> = {}
  const values: Json = Object.create(null)
  if (given !== undefined && !isObject(given)) fail('headers must be an object of header names and values')
  for (const [name, value] of Object.entries((given ?? {}) as Json)) {
    const lower = name.toLowerCase()
    if (!TOKEN.test(name)) fail(`the header name ${JSON.stringify(name)} is not an HTTP token`)
    if (PLUGIN_HEADER.test(lower)) throw new ReservedHeaderError(label(), name)
    if (!isScalar(value) || !isFieldValue(String(value))) {
      fail(`the header "${name}" must be a string, a finite number or a boolean, of visible ASCII characters, with spaces or tabs only between them (encode other text, with encodeURIComponent for one)`)
    }
    if (Object.hasOwn(values, lower)) fail(`the header "${lower}" is given twice`)
    Object.defineProperty(headers, lower, { value: String(value), enumerable: true, writable: true, configurable: true })
    values[lower] = value
  }
  return { headers, values }
}

/** Whether a header value goes out as it is: what undici sends byte for byte, and a receiver reads back unchanged. */
export function isFieldValue (text: string): boolean {
  return FIELD_VALUE.test(text)
}

function check (schemaCheck: SchemaCheck | undefined, values: unknown, where: string, fail: (fault: string) => never): void {
  const faults = schemaCheck?.(values)
  if (faults !== undefined) fail(`the ${where} break their schema: ${faults.join('; ')}`)
}

/** The given headers under the names the definition declares them (HTTP names are case-insensitive); others are left out. */
function declaredHeaders (schema: unknown, values: Json): Json {
  // a shared schema given by $ref: its names are not known here, so it sees every header
  if (!isObject(schema) || !isObject(schema.properties)) return { ...values }
  const declared: Json = Object.create(null)
  const properties = Object.keys(schema.properties)
  for (const name of properties) {
    const lower = name.toLowerCase()
    if (Object.hasOwn(values, lower)) declared[name] = values[lower]
  }
  return { ...declared }
}

/** The target URL with a query (`?a=1`) appended, after any query it has. */
export function withQuery (url: string, query: string): string {
  const parsed = new URL(url)
  parsed.search = parsed.search === '' ? query : `${parsed.search}&${query.slice(1)}`
  return parsed.href
}
