import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/**
 * Zod 4 schemas, recognised without importing zod (it is the app's optional choice): they carry `_zod` and the
 * Standard Schema interface, `~standard`, whose `validate` parses and whose `jsonSchema` converts. Everything the
 * plugin reads of a zod schema goes through this module; TypeBox and plain JSON Schemas pass through unchanged.
 */
export interface ZodSchema {
  _zod: object
  '~standard': {
    vendor: 'zod'
    validate: (value: unknown) => StandardResult | Promise<StandardResult>
    jsonSchema: Record<SchemaIo, (options: { target: JsonSchemaTarget, libraryOptions: Json }) => Json>
  }
}

interface StandardResult {
  value?: unknown
  issues?: ReadonlyArray<{ message: string, path?: readonly PropertyKey[] }>
}

/** `input`: what the schema accepts; `output`: what it gives once parsed. */
export type SchemaIo = 'input' | 'output'
type JsonSchemaTarget = 'openapi-3.0' | 'draft-2020-12'

export function isZodSchema (value: unknown): value is ZodSchema {
  if (typeof value !== 'object' || value === null || !('_zod' in value) || !('~standard' in value)) return false
  const standard = value['~standard']
  return isObject(standard) && standard.vendor === 'zod' && isObject(standard.jsonSchema)
}

// fastify-type-provider-zod's options (zodSchemaToJson): what JSON cannot say becomes {}, cycles and ids become refs
const LIBRARY_OPTIONS = { unrepresentable: 'any', cycles: 'ref', reused: 'inline' }

function convert (schema: ZodSchema, io: SchemaIo, target: JsonSchemaTarget): Json {
  return schema['~standard'].jsonSchema[io]({
    target,
    libraryOptions: {
      ...LIBRARY_OPTIONS,
      // as fastify-type-provider-zod's override: a Date is sent as its ISO string
      override: ({ zodSchema, jsonSchema }: { zodSchema: { _zod: { def: { type: string } } }, jsonSchema: Json }) => {
        if (io === 'output' && zodSchema._zod.def.type === 'date') Object.assign(jsonSchema, { type: 'string', format: 'date-time' })
      }
    }
  })
}

const readable = { input: new WeakMap<ZodSchema, Json>(), output: new WeakMap<ZodSchema, Json>() }

/**
 * The schema as JSON Schema to read (property names, what a pointer reaches): a zod schema converted once, its shared
 * schemas kept in its own `$defs`, so that every `$ref` resolves inside it; any other schema as it is.
 */
export function readableSchema (schema: unknown, io: SchemaIo): unknown {
  if (!isZodSchema(schema)) return schema
  let json = readable[io].get(schema)
  if (json === undefined) readable[io].set(schema, json = inlineRoot(convert(schema, io, 'draft-2020-12')))
  return json
}

/** A schema registered with an id converts to a `$ref` to its own `$defs`: its definition, read in place, `$defs` kept. */
function inlineRoot (json: Json): Json {
  const { $ref, ...rest } = json
  const id = typeof $ref === 'string' ? /^#\/(?:\$defs|definitions)\/(.+)$/.exec($ref)?.[1] : undefined
  const defs = (rest.$defs ?? rest.definitions) as Json | undefined
  if (id === undefined || defs === undefined || !isObject(defs[id])) return json
  return { ...rest, ...defs[id] }
}

// keywords zod writes that a document's schema does not hold, and those OpenAPI 3.0 has not (as fastify-type-provider-zod)
const IDENTITY_KEYWORDS = ['$schema', '$id', 'id', '$defs', 'definitions']
const SUBSCHEMA_MAPS = ['properties', 'patternProperties']
const SUBSCHEMA_KEYWORDS = ['items', 'prefixItems', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'contains', 'propertyNames']
const NOT_IN_OPENAPI_30 = ['unevaluatedProperties', 'dependentSchemas', 'patternProperties', 'propertyNames', 'contentEncoding', 'contentMediaType']

/**
 * The schema as the document holds it, as fastify-type-provider-zod writes a route's: JSON Schema for the document's
 * version, and shared schemas (z.globalRegistry ids) as `$ref`s to the components its `jsonSchemaTransformObject`
 * adds (`Invoice`, or `InvoiceInput` for the input side). `inline`: a registered schema's own definition, not its
 * `$ref` (a parameter container is split into its properties).
 */
export function documentSchema (schema: ZodSchema, io: SchemaIo, openapi30: boolean, inline = false): Json {
  const converted = convert(schema, io, openapi30 ? 'openapi-3.0' : 'draft-2020-12')
  const json = inline ? inlineRoot(converted) : converted
  const remove = new Set(openapi30 ? [...IDENTITY_KEYWORDS, ...NOT_IN_OPENAPI_30] : IDENTITY_KEYWORDS)
  const suffix = io === 'input' ? 'Input' : ''
  // a fresh tree from zod, rewritten in place by a work list through its subschemas only: a `default` or an
  // `examples` value is data, and keeps its keys
  const pending: unknown[] = [json]
  while (pending.length > 0) {
    const schema = pending.pop()
    if (!isObject(schema)) continue
    for (const key of remove) delete schema[key]
    if (openapi30 && schema.type === 'null') Object.assign(schema, null30())
    if (openapi30 && Array.isArray(schema.anyOf)) foldNullBranch(schema, schema.anyOf)
    if (typeof schema.$ref === 'string') schema.$ref = schema.$ref.replace(/^#\/(?:\$defs|definitions)\/(.+)$/, `#/components/schemas/$1${suffix}`)
    for (const key of SUBSCHEMA_MAPS) if (isObject(schema[key])) pending.push(...Object.values(schema[key]))
    for (const key of SUBSCHEMA_KEYWORDS) pending.push(...[schema[key]].flat())
  }
  return json
}

// zod's OpenAPI 3.0 form of z.null(): 3.0 has no type 'null', which zod still writes for z.literal(null).
// A new array each time: the document shares no objects (YAML would write them as anchors).
const null30 = (): Json => ({ type: 'string', nullable: true, enum: [null] })

const isNullSchema = (branch: unknown): boolean => isObject(branch) && (branch.type === 'null' ||
  (branch.nullable === true && Array.isArray(branch.enum) && branch.enum.length === 1 && branch.enum[0] === null))

/**
 * zod writes a union with null (`z.union([x, z.null()])`), for OpenAPI 3.0, as a branch `{ type: 'string', nullable:
 * true, enum: [null] }`, which says "a null string". 3.0's own way is `nullable: true` on the other branches: on the
 * schema itself when one is left (the union's own keywords, such as its description, kept), and around a `$ref`, whose
 * siblings 3.0 ignores. A union of nulls only stays as it is.
 */
function foldNullBranch (schema: Json, branches: unknown[]): void {
  const others = branches.filter(branch => !isNullSchema(branch))
  if (others.length === branches.length || others.length === 0) return
  const nullable = (others as Json[]).map(branch => typeof branch.$ref === 'string' ? { allOf: [branch], nullable: true } : { ...branch, nullable: true })
  delete schema.anyOf
  if (nullable.length === 1) Object.assign(schema, nullable[0], { ...schema })
  else schema.anyOf = nullable
}

/** The outcome of parsing with a zod schema: its output, or the faults as `/path: message`. */
export type ParseResult = { ok: true, value: unknown } | { ok: false, faults: string[] }

/** Parses with the schema itself (refinements, transforms, defaults). An asynchronous schema cannot check what is sent now. */
export function parseWith (schema: ZodSchema, value: unknown): ParseResult {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) {
    // its rejection, if any, is the same fault
    result.catch(() => {})
    return { ok: false, faults: ['/: the schema is asynchronous (an async refinement or transform); fastify-openapi-callbacks checks synchronously'] }
  }
  if (result.issues === undefined) return { ok: true, value: result.value }
  return {
    ok: false,
    faults: result.issues.map(({ message, path = [] }) => {
      const pointer = path.map(segment => '/' + String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
      return `${pointer === '' ? '/' : pointer}: ${message}`
    })
  }
}

/** A response map's values (schemas, or `{ content: { type: { schema } } }`) with each schema made readable. */
function readableResponses (response: unknown, io: SchemaIo): unknown {
  if (!isObject(response)) return response
  return Object.fromEntries(Object.entries(response).map(([code, value]) => [code, isObject(value) && isObject(value.content)
    // a media type that is no object is left as it is, for the definition's check to name it
    ? { ...value, content: Object.fromEntries(Object.entries(value.content).map(([type, media]) => [type, isObject(media) ? { ...media, schema: readableSchema(media.schema, io) } : media])) }
    : readableSchema(value, io)]))
}

/**
 * The schemas of a route or an operation (`body`, `querystring`, `params`, `headers`, `response`), readable:
 * `request` is the side of the request (input for a route, which parses it; output for a callback, which sends it).
 */
export function readableSchemas<S extends Json> (schema: S, request: SchemaIo): S {
  const response = request === 'input' ? 'output' : 'input'
  return {
    ...schema,
    ...Object.fromEntries(['body', 'querystring', 'params', 'headers'].filter(key => schema[key] !== undefined).map(key => [key, readableSchema(schema[key], request)])),
    ...(schema.response === undefined ? {} : { response: readableResponses(schema.response, response) })
  }
}
