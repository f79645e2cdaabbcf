import type { OperationDefinition } from '../definition/definition.js'
import { isObject } from '../util/json.js'
import { escapeNames, restoreNames } from './escaped-names.js'
import { hasGeneratedTitle } from './components.js'
import type { Json } from '../util/json.js'

/**
 * @fastify/swagger converts a callback operation's `requestBody` and `responses` with the same
 * ref resolution and schema conversion as route schemas, and drops every other field. So an
 * operation travels through it as `responses: { [CARRIER]: id, allOf: [...schemas] }`: the schemas
 * are converted in place (`allOf` is a keyword its walk follows, so nested `$id` schemas become
 * components too), and the operation is put back together from its skeleton once the document is built.
 */
export const CARRIER = 'x-fastify-openapi-callbacks'

/** Where a converted schema goes: an index into the carrier's `allOf`. */
type SchemaSlot = number

interface ParameterSkeleton { name: string, in: 'query' | 'header' | 'path', required: boolean, description?: string, schema: SchemaSlot }
// Names from the app (media types, header names, status codes) are kept as entries, never as keys of a plain
// object, and become keys only through Object.fromEntries, which makes own properties even of `__proto__`.
// a media type's named examples, when given, replace those its schema's `examples` array would make
type Content = Array<[type: string, slot: SchemaSlot, examples: Json | undefined]>
interface ResponseSkeleton { description: string, headers?: Array<[name: string, { description?: string, schema: SchemaSlot }]>, content?: Content }

/** Where an operation's schemas go; the same for every route that uses the definition. */
interface OperationShape {
  parameters: ParameterSkeleton[]
  requestBody?: { description?: string, content: Content }
  responses: Array<[code: string, ResponseSkeleton]>
}

export interface OperationSkeleton {
  fields: Json
  shape: OperationShape
}

export interface NativeOperation { responses: Json }

const COMBINATORS = ['allOf', 'anyOf', 'oneOf']
const NAMED_EXAMPLES = 'x-examples'
const PARAMETER_LOCATIONS = [['querystring', 'query'], ['headers', 'header'], ['params', 'path']] as const

/** Title Case of a name, as FastAPI writes a callback's default summary: invoice_notification → Invoice Notification. */
export function titleCase (name: string): string {
  return name.split(/[\s_-]+/).filter(Boolean).map(word => word[0]!.toUpperCase() + word.slice(1)).join(' ')
}

/** Splits an object schema into OpenAPI parameters (one per property), as @fastify/swagger does for routes. */
function addParameters (shape: OperationShape, schemas: unknown[], container: Json, location: ParameterSkeleton['in']): void {
  const properties = isObject(container.properties) ? container.properties : {}
  const required = Array.isArray(container.required) ? container.required : []
  for (const [name, property] of Object.entries(properties)) {
    const { description, ...schema } = property as Json
    shape.parameters.push({
      name,
      in: location,
      required: location === 'path' || required.includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: schemas.push(schema) - 1
    })
  }
}

/** Media types of a body or response: the `content` form, or one schema under each declared type. */
function addContent (schemas: unknown[], schema: Json, types: readonly string[] | undefined): Content {
  if (isObject(schema.content)) {
    return Object.entries(schema.content).map(([type, value]) => {
      const media = value as Json
      return [type, schemas.push(media.schema ?? {}) - 1, isObject(media.examples) ? media.examples : undefined]
    })
  }
  // `x-examples` on a body or response schema, as @fastify/swagger reads it on a route's: named examples for each media type
  const { [NAMED_EXAMPLES]: named, ...withoutNamed } = schema
  const slot = schemas.push(isObject(named) ? withoutNamed : schema) - 1
  return (types ?? ['application/json']).map(type => [type, slot, isObject(named) ? named : undefined])
}

function defaultDescription (code: string): string {
  return code.startsWith('2') ? 'Successful Response' : 'Default Response'
}

// A definition used by several routes is described once, unless a parameter container is a `$ref`,
// which each route resolves against its own shared schemas.
const shapes = new WeakMap<OperationDefinition, { shape: OperationShape, schemas: unknown[] }>()

/** The skeleton of a complete Operation, and the schemas @fastify/swagger must convert for it. */
export function describeOperation (
  definition: OperationDefinition,
  fields: { summary: string, operationId: string },
  resolveContainer: (schema: Json) => Json
): { skeleton: OperationSkeleton, schemas: unknown[] } {
  const { shape, schemas } = shapes.get(definition) ?? describeShape(definition, resolveContainer)
  return {
    skeleton: {
      fields: {
        summary: fields.summary,
        ...(definition.description === undefined ? {} : { description: definition.description }),
        operationId: fields.operationId,
        ...(definition.tags === undefined ? {} : { tags: [...definition.tags] }),
        ...(definition.deprecated === undefined ? {} : { deprecated: definition.deprecated }),
        ...Object.fromEntries(definition.extensions.map(([field, value]) => [field, structuredClone(value)]))
      },
      shape
    },
    schemas
  }
}

function describeShape (definition: OperationDefinition, resolveContainer: (schema: Json) => Json): { shape: OperationShape, schemas: unknown[] } {
  const schemas: unknown[] = []
  const { schema } = definition
  const shape: OperationShape = { parameters: [], responses: [] }
  let cacheable = true
  for (const [key, location] of PARAMETER_LOCATIONS) {
    const container = schema[key] as Json | undefined
    if (container === undefined) continue
    if (container.$ref !== undefined) cacheable = false
    addParameters(shape, schemas, resolveContainer(container), location)
  }
  if (schema.body !== undefined) {
    const body = schema.body as Json
    shape.requestBody = {
      ...(typeof body.description === 'string' ? { description: body.description } : {}),
      content: addContent(schemas, body, schema.consumes)
    }
  }
  const responses = schema.response ?? { '2XX': { description: 'Successful Response', type: 'null' } }
  for (const [rawCode, value] of Object.entries(responses)) {
    const code = rawCode === 'default' ? rawCode : rawCode.toUpperCase()
    const { headers, ...response } = value as Json
    const described: ResponseSkeleton = { description: typeof response.description === 'string' ? response.description : defaultDescription(code) }
    if (isObject(headers)) {
      described.headers = Object.entries(headers).map(([name, header]) => {
        const { description, ...headerSchema } = header as Json
        return [name, { ...(typeof description === 'string' ? { description } : {}), schema: schemas.push(headerSchema) - 1 }]
      })
    }
    if (response.type !== 'null') described.content = addContent(schemas, response, schema.produces)
    shape.responses.push([code, described])
  }
  if (cacheable) shapes.set(definition, { shape, schemas })
  return { shape, schemas }
}

export function toNative (id: string, schemas: unknown[]): NativeOperation {
  return { responses: { [CARRIER]: id, allOf: escapeNames(schemas) } }
}

/** The schemas of a carrier (a native operation's `responses`, or the webhooks' component) as @fastify/swagger converted them, their names restored. */
export function convertedSchemas (carrier: Json): unknown[] {
  const schemas = restoreNames(carrier.allOf as unknown[])
  // @fastify/swagger gives a nested `$id` schema its id as a title, even where it stays inline
  eachSubschema({ allOf: schemas }, schema => { if (hasGeneratedTitle(schema)) delete schema.title })
  return schemas
}

/** The carrier id of an operation in a built document, if it came through this plugin. */
export function carrierId (operation: NativeOperation): string | undefined {
  const id = operation.responses[CARRIER]
  return typeof id === 'string' ? id : undefined
}

/**
 * Examples as @fastify/swagger places them for route bodies: a schema's own `examples` become the
 * media type's `example`/`examples`; nested ones become `example` in 3.0 (which has no `examples` keyword).
 */
function toMedia (schema: Json, openapi30: boolean): Json {
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
  if (openapi30) nestedExamples(schema)
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

/** Visits a schema's subschemas, not the schema itself: a work list, not recursion, as the app's schemas may be thousands deep. */
function eachSubschema (root: Json, visit: (schema: Json) => void): void {
  const pending = subschemas(root)
  while (pending.length > 0) {
    const schema = pending.pop()
    if (!isObject(schema)) continue
    visit(schema)
    for (const subschema of subschemas(schema)) pending.push(subschema)
  }
}

function subschemas (schema: Json): unknown[] {
  return [
    ...(isObject(schema.properties) ? Object.values(schema.properties) : []),
    schema.additionalProperties,
    schema.items,
    ...COMBINATORS.flatMap(combinator => Array.isArray(schema[combinator]) ? schema[combinator] as unknown[] : [])
  ]
}

/** Puts a complete Operation back together from its skeleton and the schemas @fastify/swagger converted. */
export function assembleOperation ({ fields, shape }: OperationSkeleton, schemas: readonly unknown[], openapi30: boolean): Json {
  const converted = schemas as Json[]
  // one media object per slot: a body declared for several media types shares it, as route bodies do
  const medias = new Map<SchemaSlot, Json>()
  const media = (slot: SchemaSlot): Json => {
    let found = medias.get(slot)
    if (found === undefined) medias.set(slot, found = toMedia(converted[slot]!, openapi30))
    return found
  }
  const contentOf = (content: Content): Json => Object.fromEntries(content.map(([type, slot, examples]) => [
    type,
    examples === undefined ? media(slot) : { schema: media(slot).schema, examples: structuredClone(examples) }
  ]))
  const operation: Json = { ...fields }
  if (shape.parameters.length > 0) {
    operation.parameters = shape.parameters.map(({ schema, ...parameter }) => {
      const { schema: parameterSchema, ...examples } = media(schema)
      return { ...parameter, ...examples, schema: parameterSchema }
    })
  }
  if (shape.requestBody !== undefined) {
    const { content, ...body } = shape.requestBody
    operation.requestBody = { ...body, required: true, content: contentOf(content) }
  }
  operation.responses = Object.fromEntries(shape.responses.map(([code, { headers, content, description }]) => {
    const response: Json = { description }
    if (headers !== undefined) response.headers = Object.fromEntries(headers.map(([name, { schema, ...header }]) => [name, { ...header, schema: converted[schema] }]))
    if (content !== undefined) response.content = contentOf(content)
    return [code, response]
  }))
  return operation
}

/**
 * A Callbacks map from its operations, in order: names and keys are the app's, so they are grouped in Maps and
 * become keys only through Object.fromEntries, which makes own properties even of `__proto__`.
 */
export function callbacksObject (operations: Iterable<{ name: string, key: string, method: string, operation: Json }>): Json {
  const names = new Map<string, Map<string, Array<[string, Json]>>>()
  for (const { name, key, method, operation } of operations) {
    const keys = names.get(name) ?? new Map<string, Array<[string, Json]>>()
    names.set(name, keys)
    const methods = keys.get(key) ?? []
    keys.set(key, methods)
    methods.push([method, operation])
  }
  return Object.fromEntries([...names].map(([name, keys]) => [name, Object.fromEntries([...keys].map(([key, methods]) => [key, Object.fromEntries(methods)]))]))
}
