import type { OperationDefinition } from '../definition/definition.js'
import { isObject } from '../util/json.js'
import { documentSchema, isZodSchema, readableSchema } from '../definition/schema-kind.js'
import type { SchemaIo } from '../definition/schema-kind.js'
import { NAMED_EXAMPLES } from './schema-carrier.js'
import type { ConvertedSchemas } from './schema-carrier.js'
import { eachSubschema } from './subschemas.js'
import type { SentHeaders } from './signature.js'
import type { Json } from '../util/json.js'
import type { RawDescription } from './raw-operation.js'

/** Where a converted schema goes: an index into the carrier's `allOf`. */
type SchemaSlot = number

interface ParameterSkeleton { name: string, in: 'query' | 'header', required: boolean, description?: string, schema: SchemaSlot }
// Names from the app (media types, header names, status codes) are kept as entries, never as keys of a plain
// object, and become keys only through Object.fromEntries, which makes own properties even of `__proto__`.
// a media type's named examples, when given, replace those its schema's `examples` array would make
type Content = Array<[type: string, slot: SchemaSlot, examples: Json | undefined]>
interface ResponseSkeleton { description: string, headers?: Array<[name: string, { description?: string, schema: SchemaSlot }]>, content?: Content }

/** Where an operation's schemas go; the same for every route that uses the definition. */
interface OperationShape {
  /** Slots of zod schemas: written for the document's version when it is built, not converted by @fastify/swagger. */
  documented: Map<SchemaSlot, (openapi30: boolean) => Json>
  parameters: ParameterSkeleton[]
  requestBody?: { description?: string, content: Content }
  responses: Array<[code: string, ResponseSkeleton]>
}

export interface OperationSkeleton {
  fields: Json
  shape: OperationShape
}

// no path parameters: nothing fills them in a callback's or webhook's URL, so definitions refuse schema.params
const PARAMETER_LOCATIONS = [['querystring', 'query'], ['headers', 'header']] as const

/** Reads a parameter container (`schema.headers`, `schema.querystring`), through its `$ref` if it has one. */
export type ContainerResolver = (schema: Json, key: typeof PARAMETER_LOCATIONS[number][0]) => Json

// a callback's name gives the same summary on every route that uses it
const titles = new Map<string, string>()

/** Title Case of a name, as FastAPI writes a callback's default summary: invoice_notification → Invoice Notification. */
export function titleCase (name: string): string {
  let title = titles.get(name)
  if (title === undefined) titles.set(name, title = name.split(/[\s_-]+/).filter(Boolean).map(word => word[0]!.toUpperCase() + word.slice(1)).join(' '))
  return title
}

/** The slot of a schema: a zod schema's holds an empty schema for @fastify/swagger, and is written when the document is built. */
function addSchema (shape: OperationShape, schemas: unknown[], schema: unknown, io: SchemaIo): SchemaSlot {
  if (!isZodSchema(schema)) return schemas.push(schema) - 1
  const slot = schemas.push({}) - 1
  shape.documented.set(slot, openapi30 => documentSchema(schema, io, openapi30))
  return slot
}

/** Splits an object schema into OpenAPI parameters (one per property), as @fastify/swagger does for routes. */
function addParameters (shape: OperationShape, schemas: unknown[], given: Json, location: ParameterSkeleton['in']): void {
  const container = readableSchema(given, 'output') as Json
  const properties = isObject(container.properties) ? container.properties : {}
  const required = Array.isArray(container.required) ? container.required : []
  for (const [name, property] of Object.entries(properties)) {
    const { description, ...schema } = property as Json
    const slot = schemas.push(schema) - 1
    if (isZodSchema(given)) {
      shape.documented.set(slot, openapi30 => {
        const { description, ...schema } = (documentSchema(given, 'output', openapi30, true).properties as Json)[name] as Json
        return schema
      })
    }
    shape.parameters.push({
      name,
      in: location,
      required: required.includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: slot
    })
  }
}

/** Media types of a body or response: the `content` form, or one schema under each declared type. */
function addContent (shape: OperationShape, schemas: unknown[], schema: unknown, types: readonly string[] | undefined, io: SchemaIo): Content {
  if (isObject(schema) && isObject(schema.content)) {
    return Object.entries(schema.content).map(([type, value]) => {
      const media = value as Json
      return [type, addSchema(shape, schemas, media.schema ?? {}, io), isObject(media.examples) ? media.examples : undefined]
    })
  }
  // `x-examples` on a body or response schema, as @fastify/swagger reads it on a route's: named examples for each media type
  const named = isObject(schema) && !isZodSchema(schema) ? schema[NAMED_EXAMPLES] : undefined
  let documented = schema
  if (isObject(named)) {
    const { [NAMED_EXAMPLES]: _named, ...withoutNamed } = schema as Json
    documented = withoutNamed
  }
  const slot = addSchema(shape, schemas, documented, io)
  return (types ?? ['application/json']).map(type => [type, slot, isObject(named) ? named : undefined])
}

function defaultDescription (code: string): string {
  return code.startsWith('2') ? 'Successful Response' : 'Default Response'
}

/**
 * What one app remembers of the operations it describes. One app's: its routes are read in one pass at ready(),
 * while an app may change a definition's schema objects before the next app reads them.
 */
export interface DescriptionMemo {
  /** A definition used by several routes is described once, unless a parameter container is a `$ref`, which each route resolves against its own shared schemas. */
  shapes: WeakMap<OperationDefinition, { shape: OperationShape, schemas: unknown[] }>
  /** An operation of raw callbacks maps, by its object. */
  rawOperations: WeakMap<Json, RawDescription>
}

export function createDescriptionMemo (): DescriptionMemo {
  return { shapes: new WeakMap(), rawOperations: new WeakMap() }
}

/** The skeleton of a complete Operation, and the schemas @fastify/swagger must convert for it. */
export function describeOperation (
  definition: OperationDefinition,
  fields: { summary: string, operationId: string },
  resolveContainer: ContainerResolver,
  memo: DescriptionMemo
): { skeleton: OperationSkeleton, schemas: unknown[] } {
  const { shape, schemas } = memo.shapes.get(definition) ?? describeShape(definition, resolveContainer, memo)
  // built field by field, in the document's order: this runs once per route that uses the definition
  const described: Json = { summary: fields.summary }
  if (definition.description !== undefined) described.description = definition.description
  described.operationId = fields.operationId
  if (definition.tags !== undefined) described.tags = [...definition.tags]
  if (definition.deprecated !== undefined) described.deprecated = definition.deprecated
  // Object.fromEntries: a scheme's name is the app's, `__proto__` included
  if (definition.security !== undefined) described.security = definition.security.map(entry => Object.fromEntries(Object.entries(entry).map(([scheme, scopes]) => [scheme, [...scopes]])))
  // extension names start with `x-`, so assignment sets own properties
  for (const [field, value] of definition.extensions) described[field] = structuredClone(value)
  return { skeleton: { fields: described, shape }, schemas }
}

function describeShape (definition: OperationDefinition, resolveContainer: ContainerResolver, memo: DescriptionMemo): { shape: OperationShape, schemas: unknown[] } {
  const schemas: unknown[] = []
  const { schema } = definition
  const shape: OperationShape = { documented: new Map(), parameters: [], responses: [] }
  let cacheable = true
  for (const [key, location] of PARAMETER_LOCATIONS) {
    const container = schema[key] as Json | undefined
    if (container === undefined) continue
    if (container.$ref !== undefined) cacheable = false
    addParameters(shape, schemas, resolveContainer(container, key), location)
  }
  // what the app sends is the output of its schemas, what it receives their input
  if (schema.body !== undefined) {
    const body = schema.body as Json
    const { description } = readableSchema(body, 'output') as Json
    shape.requestBody = {
      ...(typeof description === 'string' ? { description } : {}),
      content: addContent(shape, schemas, body, schema.consumes, 'output')
    }
  }
  const responses = schema.response ?? { '2XX': { description: 'Successful Response', type: 'null' } }
  for (const [rawCode, value] of Object.entries(responses)) {
    const code = rawCode === 'default' ? rawCode : rawCode.toUpperCase()
    const { headers, ...response } = readableSchema(value, 'input') as Json
    const described: ResponseSkeleton = { description: typeof response.description === 'string' ? response.description : defaultDescription(code) }
    if (isObject(headers)) {
      described.headers = Object.entries(headers).map(([name, header]) => {
        const { description, ...headerSchema } = header as Json
        return [name, { ...(typeof description === 'string' ? { description } : {}), schema: schemas.push(headerSchema) - 1 }]
      })
    }
    if (response.type !== 'null') described.content = addContent(shape, schemas, isZodSchema(value) ? value : response, schema.produces, 'input')
    shape.responses.push([code, described])
  }
  if (cacheable) memo.shapes.set(definition, { shape, schemas })
  return { shape, schemas }
}

/**
 * Examples as @fastify/swagger places them for route bodies: a schema's own `examples` become the
 * media type's `example`/`examples`; nested ones become `example` in 3.0 (which has no `examples` keyword).
 */
function toMedia (schema: Json, nested30: boolean): Json {
  const media: Json = { schema }
  const { examples } = schema
  if (Array.isArray(examples) && examples.length > 0) {
    if (examples.length === 1) {
      media.example = examples[0]
    } else {
      media.examples = Object.fromEntries(examples.map((value, index) => [`example${index + 1}`, { value }]))
    }
    delete schema.examples
  }
  // 3.1 keeps nested `examples` arrays, valid in JSON Schema 2020-12
  if (nested30) nestedExamples(schema)
  return media
}

/** Nested `examples` become `example`. */
function nestedExamples (root: Json): void {
  eachSubschema(root, schema => {
    if (Array.isArray(schema.examples)) {
      schema.example = schema.examples[0]
      delete schema.examples
    }
  })
}

/** What an operation holds below its fields: the same for every route whose schemas the shared carrier converted once. */
interface OperationBody { parameters: Json[] | undefined, requestBody: Json | undefined, responses: Json }

// by the converted schemas of the shared carrier (one document's) and the shape that places them
const sharedBodies = new WeakMap<readonly unknown[], WeakMap<OperationShape, OperationBody>>()

/**
 * Puts a complete Operation back together from its skeleton and the schemas @fastify/swagger converted (zod schemas
 * written now, for the document's version), with the headers the plugin sends by itself after the declared parameters.
 * It runs once per route and callback: plain objects built field by field, in the document's order. Schemas the shared
 * carrier converted once give every route that uses them one body (parameters, request body, responses), as the same
 * objects: each route's operation is its own, and JSON and YAML (written without aliases) spell the body out each time.
 */
export function assembleOperation ({ fields, shape }: OperationSkeleton, converted: ConvertedSchemas, openapi30: boolean, sent: SentHeaders): Json {
  let body: OperationBody | undefined
  if (converted.shared) {
    let bodies = sharedBodies.get(converted.schemas)
    if (bodies === undefined) sharedBodies.set(converted.schemas, bodies = new WeakMap())
    body = bodies.get(shape)
    if (body === undefined) bodies.set(shape, body = operationBody(shape, converted, openapi30, sent))
  } else {
    body = operationBody(shape, converted, openapi30, sent)
  }
  const operation: Json = { summary: fields.summary }
  // the note on verifying follows the definition's own description, in its place after the summary
  const own = fields.description
  const description = sent.note === undefined || typeof own !== 'string' ? own ?? sent.note : `${own}\n\n${sent.note}`
  if (description !== undefined) operation.description = description
  // the fields' names are the plugin's and `x-` extensions, never `__proto__`
  for (const field in fields) if (field !== 'summary' && field !== 'description') operation[field] = fields[field]
  if (body.parameters !== undefined) operation.parameters = body.parameters
  if (body.requestBody !== undefined) operation.requestBody = body.requestBody
  operation.responses = body.responses
  return operation
}

function operationBody (shape: OperationShape, { schemas, exampled }: ConvertedSchemas, openapi30: boolean, sent: SentHeaders): OperationBody {
  const converted = schemas.map((schema, slot) => shape.documented.get(slot)?.(openapi30) ?? schema) as Json[]
  // a zod schema, written now, may hold nested `examples`
  const nested30 = openapi30 && (exampled || shape.documented.size > 0)
  // one media object per slot: a body declared for several media types shares it, as route bodies do
  const medias = new Map<SchemaSlot, Json>()
  const media = (slot: SchemaSlot): Json => {
    let found = medias.get(slot)
    if (found === undefined) medias.set(slot, found = toMedia(converted[slot]!, nested30))
    return found
  }
  const contentOf = (content: Content): Json => Object.fromEntries(content.map(([type, slot, examples]) => [
    type,
    examples === undefined ? media(slot) : { schema: media(slot).schema, examples: structuredClone(examples) }
  ]))
  const parameters: Json[] = []
  for (const { name, in: location, required, description, schema: slot } of shape.parameters) {
    const parameter: Json = { name, in: location, required }
    if (description !== undefined) parameter.description = description
    // a media object holds its schema and, if any, `example` or `examples`: those come before the schema
    const found = media(slot)
    for (const key in found) if (key !== 'schema') parameter[key] = found[key]
    parameter.schema = found.schema
    parameters.push(parameter)
  }
  for (const parameter of sent.parameters()) parameters.push(parameter)
  let requestBody: Json | undefined
  if (shape.requestBody !== undefined) {
    const { content, description } = shape.requestBody
    requestBody = description === undefined ? {} : { description }
    requestBody.required = true
    requestBody.content = contentOf(content)
  }
  const responses = Object.fromEntries(shape.responses.map(([code, { headers, content, description }]) => {
    const response: Json = { description }
    if (headers !== undefined) response.headers = Object.fromEntries(headers.map(([name, { schema, description }]) => [name, description === undefined ? { schema: converted[schema] } : { description, schema: converted[schema] }]))
    if (content !== undefined) response.content = contentOf(content)
    return [code, response]
  }))
  return { parameters: parameters.length > 0 ? parameters : undefined, requestBody, responses }
}

/**
 * A Callbacks map from its operations, in order: names and keys are the app's, so they are grouped in Maps and
 * become keys only through Object.fromEntries, which makes own properties even of `__proto__`.
 */
export function callbacksObject (operations: Iterable<{ name: string, key: string, method: string, operation: Json } | { name: string, reference: Json }>): Json {
  // a name holds operations by key and method, or a Reference Object in place of its Callback Object
  const names = new Map<string, Map<string, Array<[string, Json]>> | Json>()
  for (const entry of operations) {
    if ('reference' in entry) {
      names.set(entry.name, entry.reference)
      continue
    }
    const { name, key, method, operation } = entry
    const keys = names.get(name) as Map<string, Array<[string, Json]>> | undefined ?? new Map<string, Array<[string, Json]>>()
    names.set(name, keys)
    const methods = keys.get(key) ?? []
    keys.set(key, methods)
    methods.push([method, operation])
  }
  return Object.fromEntries([...names].map(([name, keys]) => [
    name,
    keys instanceof Map ? Object.fromEntries([...keys].map(([key, methods]) => [key, Object.fromEntries(methods)])) : keys
  ]))
}
