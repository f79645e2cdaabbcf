import type { OperationDefinition } from '../definition/definition.js'
import { isObject } from '../util/json.js'
import { documentSchema, isZodSchema, readableSchema } from '../definition/schema-kind.js'
import type { SchemaIo } from '../definition/schema-kind.js'
import { NAMED_EXAMPLES } from './schema-carrier.js'
import type { Json } from '../util/json.js'
import type { RawDescription } from './raw-operation.js'

/** Where a converted schema goes: an index into the carrier's `allOf`. */
export type SchemaSlot = number

interface ParameterSkeleton { name: string, in: 'query' | 'header', required: boolean, description?: string, schema: SchemaSlot }
// Names from the app (media types, header names, status codes) are kept as entries, never as keys of a plain
// object, and become keys only through Object.fromEntries, which makes own properties even of `__proto__`.
// a media type's named examples, when given, replace those its schema's `examples` array would make
export type Content = Array<[type: string, slot: SchemaSlot, examples: Json | undefined]>
interface ResponseSkeleton { description: string, headers?: Array<[name: string, { description?: string, schema: SchemaSlot }]>, content?: Content }

/** Where an operation's schemas go; the same for every route that uses the definition. */
export interface OperationShape {
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
