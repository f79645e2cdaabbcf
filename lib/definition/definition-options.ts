import { InvalidDefinitionError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'
import { pluginHeaderIn } from './plugin-headers.js'
import { MAX_SCHEMA_DEPTH, nestsDeeperThan } from './schema-depth.js'
import { readableSchemas } from './schema-kind.js'

// the options every definition takes; a kind adds its own (`extraKeys`), and `x-` extensions go to the document
const OPTION_KEYS = new Set(['name', 'summary', 'description', 'operationId', 'tags', 'deprecated', 'security', 'hide', 'schema', 'externalDocs', 'servers'])
// the Operation fields a definition carries to the document as they are
export const CARRIED_FIELDS = new Set(['externalDocs', 'servers'])
export const isExtension = (key: string): boolean => key.startsWith('x-') && key.length > 2
const SCHEMA_KEYS = new Set(['body', 'headers', 'querystring', 'params', 'response', 'consumes', 'produces'])
// a Map: the key looked up is the app's, and `constructor` must find nothing
const SCHEMA_KEY_HINTS = new Map([
  ['responses', 'response'],
  ['query', 'querystring'],
  ['header', 'headers'],
  ['requestBody', 'body'],
  ['parameters', 'querystring or headers']
])

/** Checks every option once, where the definition is made, so later stages can trust it. */
export function checkOptions (label: string, options: Record<string, unknown>, extraKeys: readonly string[]): void {
  const fail = (fault: string): never => { throw new InvalidDefinitionError(label, fault) }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key) && !extraKeys.includes(key) && !isExtension(key)) fail(`unknown option "${key}"`)
  }
  checkCarriedFields(options, fail)
  for (const key of ['summary', 'description', 'operationId'] as const) {
    const value = options[key]
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) fail(`${key} must be a non-empty string`)
  }
  const { tags, security } = options
  // zod schemas are checked as the JSON Schema they convert to
  const schema = isObject(options.schema) ? readableSchemas(options.schema, 'output') : options.schema
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every(tag => typeof tag === 'string' && tag !== ''))) {
    fail('tags must be an array of non-empty strings')
  }
  for (const key of ['deprecated', 'hide'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') fail(`${key} must be a boolean`)
  }
  if (security !== undefined) checkSecurity(security, fail)
  if (schema === undefined) return
  if (!isObject(schema)) return fail('schema must be an object like a Fastify route schema')
  for (const key of Object.keys(schema)) {
    if (SCHEMA_KEYS.has(key)) continue
    const hint = SCHEMA_KEY_HINTS.get(key)
    fail(`schema.${key} is not a route schema key${hint === undefined ? '' : `: did you mean schema.${hint}?`}`)
  }
  if (schema.params !== undefined) {
    fail('schema.params cannot be sent: the URL of a callback or webhook has no path parameter that anything fills. ' +
      'Put the value in a callback\'s URL with a runtime expression in its key ("{$request.body#/id}"), or send it as a query parameter (schema.querystring)')
  }
  for (const key of ['body', 'headers', 'querystring'] as const) {
    if (schema[key] !== undefined && !isObject(schema[key])) fail(`schema.${key} must be a JSON Schema object`)
  }
  for (const key of ['headers', 'querystring'] as const) {
    const parameters = schema[key] as Record<string, unknown> | undefined
    if (parameters !== undefined && parameters.$ref === undefined && parameters.type !== 'object') {
      fail(`schema.${key} must be an object schema whose properties are the parameters`)
    }
    checkSchemaMap(parameters?.properties, `schema.${key}.properties`, fail)
  }
  const headers = schema.headers as Json | undefined
  if (isObject(headers?.properties)) checkHeaderNames(Object.keys(headers.properties), fail)
  if (isObject(schema.body)) checkContent(schema.body, 'schema.body', fail)
  const { response } = schema
  if (response !== undefined) {
    if (!isObject(response)) return fail('schema.response must map status codes to schemas')
    for (const [code, value] of Object.entries(response)) {
      if (!/^([1-5](\d\d|XX|xx)|default)$/.test(code)) fail(`schema.response has an invalid status code "${code}"`)
      if (!isObject(value)) return fail(`schema.response.${code} must be a JSON Schema object`)
      checkSchemaMap(value.headers, `schema.response.${code}.headers`, fail)
      checkContent(value, `schema.response.${code}`, fail)
    }
  }
  for (const key of ['consumes', 'produces'] as const) {
    const value = schema[key]
    if (value !== undefined && (!Array.isArray(value) || value.length === 0 || !value.every(type => typeof type === 'string' && type.includes('/')))) {
      fail(`schema.${key} must be a non-empty array of media types`)
    }
  }
  for (const [key, value] of Object.entries(schema)) {
    if (nestsDeeperThan(value, MAX_SCHEMA_DEPTH)) {
      fail(`schema.${key} nests objects more than ${MAX_SCHEMA_DEPTH} levels deep (or contains itself), more than the document can be written with; use $ref for recursive types`)
    }
  }
}

/** A body or response: one schema with its `x-examples`, or media types under `content`, each `{ schema, examples }`. */
function checkContent (holder: Record<string, unknown>, where: string, fail: (fault: string) => never): void {
  const { content } = holder
  if (content === undefined) return checkNamedExamples(holder['x-examples'], `${where}['x-examples']`, fail)
  if (!isObject(content)) return fail(`${where}.content must map media types to { schema, examples }`)
  for (const [type, media] of Object.entries(content)) {
    if (!isObject(media)) return fail(`${where}.content["${type}"] must be an object { schema, examples }`)
    checkNamedExamples(media.examples, `${where}.content["${type}"].examples`, fail)
  }
}

/** Named examples, as OpenAPI's `examples` map and FastAPI's `openapi_examples`: `{ name: { summary?, description?, value } }`. */
function checkNamedExamples (examples: unknown, where: string, fail: (fault: string) => never): void {
  if (examples === undefined) return
  if (!isObject(examples)) return fail(`${where} must map names to Example Objects { summary, description, value }`)
  for (const [name, example] of Object.entries(examples)) {
    const at = `${where}["${name}"]`
    if (!isObject(example)) return fail(`${at} must be an Example Object { summary, description, value }`)
    for (const key of Object.keys(example)) {
      if (!['summary', 'description', 'value', 'externalValue'].includes(key) && !isExtension(key)) fail(`${at} has an unknown field "${key}"`)
    }
    for (const key of ['summary', 'description', 'externalValue'] as const) {
      if (example[key] !== undefined && typeof example[key] !== 'string') fail(`${at}.${key} must be a string`)
    }
    if (Object.hasOwn(example, 'value') === Object.hasOwn(example, 'externalValue')) fail(`${at} must have either a value or an externalValue`)
  }
}

/** externalDocs and servers go into the document as given: checked here, so that the document stays valid. */
function checkCarriedFields (options: Record<string, unknown>, fail: (fault: string) => never): void {
  const { externalDocs, servers } = options
  const hasUrl = (value: unknown): boolean => isObject(value) && typeof value.url === 'string' && value.url !== ''
  if (externalDocs !== undefined && !hasUrl(externalDocs)) fail('externalDocs must be an object with a non-empty url')
  if (servers !== undefined && !(Array.isArray(servers) && servers.every(hasUrl))) fail('servers must be an array of Server Objects, each with a non-empty url')
  for (const [key, value] of Object.entries(options)) {
    if (!CARRIED_FIELDS.has(key) && !isExtension(key)) continue
    try {
      structuredClone(value)
    } catch {
      fail(`${key} must be plain data, as it is written into the document`)
    }
  }
}

/** Parameters and response headers are read one schema per name: each must be a schema. */
function checkSchemaMap (map: unknown, where: string, fail: (fault: string) => never): void {
  if (map === undefined) return
  if (!isObject(map)) return fail(`${where} must map names to JSON Schema objects`)
  for (const [name, schema] of Object.entries(map)) {
    if (!isObject(schema) && typeof schema !== 'boolean') fail(`${where}.${name} must be a JSON Schema`)
  }
}

/** A header the plugin sets itself cannot be sent by the app (FST_OPENAPI_CALLBACKS_RESERVED_HEADER), so it cannot be declared. */
export function checkHeaderNames (names: readonly string[], fail: (fault: string) => never): void {
  const name = pluginHeaderIn(names)
  if (name !== undefined) {
    fail(`schema.headers declares "${name}", a header the plugin sets itself (the Standard Webhooks signature, the body's framing, the connection) or one meant for a proxy, so it cannot be sent; the document lists the signature headers by itself`)
  }
}

/**
 * A callback's name, wherever it is given (a definition's `name`, a record's key, a raw map's key): `$ref` would make
 * readers take the operation's whole `callbacks` map for a Reference Object.
 */
export function checkCallbackName (name: string, fail: (fault: string) => never): void {
  if (name === '$ref') fail('"$ref" cannot name a callback: readers would take the operation\'s callbacks map for a Reference Object')
}

/** Security Requirement Objects: scheme names (the app's, any string) to arrays of scopes. */
function checkSecurity (security: unknown, fail: (fault: string) => never): void {
  const requirement = 'security must be an array of Security Requirement Objects, such as [{ apiKey: [] }] (or [] for none)'
  if (!Array.isArray(security)) return fail(requirement)
  for (const [index, entry] of security.entries()) {
    if (!isObject(entry)) return fail(`${requirement}: security[${index}] is not an object`)
    const prototype = Object.getPrototypeOf(entry) as object | null
    if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
      fail(`security[${index}] has a prototype of its own: an object literal's "__proto__: value" sets the prototype; write ["__proto__"]: value to name a scheme __proto__`)
    }
    for (const [scheme, scopes] of Object.entries(entry)) {
      if (!Array.isArray(scopes) || !scopes.every(scope => typeof scope === 'string')) {
        fail(`security[${index}].${scheme} must be an array of scope names (strings), [] for a scheme without scopes`)
      }
    }
  }
}
