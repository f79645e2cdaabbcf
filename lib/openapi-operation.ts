import type { OperationDefinition } from './definition.js'

/**
 * @fastify/swagger converts a callback operation's `requestBody` and `responses` with the same
 * ref resolution and schema conversion as route schemas, and drops every other field. So an
 * operation travels through it as `responses: { [CARRIER]: id, allOf: [...schemas] }`: the schemas
 * are converted in place (`allOf` is a keyword its walk follows, so nested `$id` schemas become
 * components too), and the operation is put back together from its skeleton once the document is built.
 */
export const CARRIER = 'x-fastify-openapi-callbacks'

type Json = Record<string, unknown>

/** Where a converted schema goes: an index into the carrier's `allOf`. */
type SchemaSlot = number

interface ParameterSkeleton { name: string, in: 'query' | 'header' | 'path', required: boolean, description?: string, schema: SchemaSlot }
interface ResponseSkeleton { description: string, headers?: Record<string, { description?: string, schema: SchemaSlot }>, content?: Record<string, SchemaSlot> }

export interface OperationSkeleton {
  fields: Json
  parameters: ParameterSkeleton[]
  requestBody?: { description?: string, content: Record<string, SchemaSlot> }
  responses: Record<string, ResponseSkeleton>
}

export interface NativeOperation { responses: Json }

const PARAMETER_LOCATIONS = [['querystring', 'query'], ['headers', 'header'], ['params', 'path']] as const

function isObject (value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Title Case of a name, as FastAPI writes a callback's default summary: invoice_notification → Invoice Notification. */
export function titleCase (name: string): string {
  return name.split(/[\s_-]+/).filter(Boolean).map(word => word[0]!.toUpperCase() + word.slice(1)).join(' ')
}

/** Splits an object schema into OpenAPI parameters (one per property), as @fastify/swagger does for routes. */
function addParameters (skeleton: OperationSkeleton, schemas: unknown[], container: Json, location: ParameterSkeleton['in']): void {
  const properties = isObject(container.properties) ? container.properties : {}
  const required = Array.isArray(container.required) ? container.required : []
  for (const [name, property] of Object.entries(properties)) {
    const { description, ...schema } = property as Json
    skeleton.parameters.push({
      name,
      in: location,
      required: location === 'path' || required.includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: schemas.push(schema) - 1
    })
  }
}

/** Media types of a body or response: the `content` form, or one schema under each declared type. */
function addContent (schemas: unknown[], schema: Json, types: readonly string[] | undefined): Record<string, SchemaSlot> {
  const content: Record<string, SchemaSlot> = {}
  if (isObject(schema.content)) {
    for (const [type, media] of Object.entries(schema.content)) {
      content[type] = schemas.push((media as Json).schema ?? {}) - 1
    }
    return content
  }
  const slot = schemas.push(schema) - 1
  for (const type of types ?? ['application/json']) content[type] = slot
  return content
}

function defaultDescription (code: string): string {
  return code.startsWith('2') ? 'Successful Response' : 'Default Response'
}

/**
 * The skeleton of a complete Operation and the schemas it needs converted.
 * `parameterSchemas` are the definition's parameter containers, already resolved when they were `$ref`s.
 */
export function describeOperation (
  definition: OperationDefinition,
  fields: { summary: string, operationId: string },
  resolveContainer: (schema: Json) => Json
): { skeleton: OperationSkeleton, schemas: unknown[] } {
  const schemas: unknown[] = []
  const { schema } = definition
  const skeleton: OperationSkeleton = {
    fields: {
      summary: fields.summary,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      operationId: fields.operationId,
      ...(definition.tags === undefined ? {} : { tags: [...definition.tags] }),
      ...(definition.deprecated === undefined ? {} : { deprecated: definition.deprecated })
    },
    parameters: [],
    responses: {}
  }
  for (const [key, location] of PARAMETER_LOCATIONS) {
    const container = schema[key]
    if (container !== undefined) addParameters(skeleton, schemas, resolveContainer(container as Json), location)
  }
  if (schema.body !== undefined) {
    const body = schema.body as Json
    skeleton.requestBody = {
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
      described.headers = {}
      for (const [name, header] of Object.entries(headers)) {
        const { description, ...headerSchema } = header as Json
        described.headers[name] = { ...(typeof description === 'string' ? { description } : {}), schema: schemas.push(headerSchema) - 1 }
      }
    }
    if (response.type !== 'null') described.content = addContent(schemas, response, schema.produces)
    skeleton.responses[code] = described
  }
  return { skeleton, schemas }
}

export function toNative (id: string, schemas: unknown[]): NativeOperation {
  return { responses: { [CARRIER]: id, allOf: schemas } }
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
  nestedExamples(schema, openapi30, false)
  return media
}

function nestedExamples (schema: unknown, openapi30: boolean, convertSelf: boolean): void {
  if (!isObject(schema)) return
  if (convertSelf && Array.isArray(schema.examples) && openapi30) {
    schema.example = schema.examples[0]
    delete schema.examples
  }
  const nested = [
    ...(isObject(schema.properties) ? Object.values(schema.properties) : []),
    ...(isObject(schema.additionalProperties) ? [schema.additionalProperties] : []),
    schema.items,
    ...['allOf', 'anyOf', 'oneOf'].flatMap(key => Array.isArray(schema[key]) ? schema[key] : [])
  ]
  for (const child of nested) nestedExamples(child, openapi30, true)
}

/** Puts a complete Operation back together from its skeleton and the schemas @fastify/swagger converted. */
export function assembleOperation (skeleton: OperationSkeleton, native: NativeOperation, openapi30: boolean): Json {
  const converted = native.responses.allOf as Json[]
  const media = (slot: SchemaSlot): Json => toMedia(structuredClone(converted[slot]!), openapi30)
  const operation: Json = { ...skeleton.fields }
  if (skeleton.parameters.length > 0) {
    operation.parameters = skeleton.parameters.map(({ schema, ...parameter }) => {
      const { schema: parameterSchema, ...examples } = media(schema)
      return { ...parameter, ...examples, schema: parameterSchema }
    })
  }
  if (skeleton.requestBody !== undefined) {
    const { content, ...body } = skeleton.requestBody
    operation.requestBody = { ...body, required: true, content: mapValues(content, media) }
  }
  operation.responses = mapValues(skeleton.responses, ({ headers, content, description }) => ({
    description,
    ...(headers === undefined ? {} : { headers: mapValues(headers, ({ schema, ...header }) => ({ ...header, schema: converted[schema] })) }),
    ...(content === undefined ? {} : { content: mapValues(content, media) })
  }))
  return operation
}

function mapValues<T, U> (record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]))
}
