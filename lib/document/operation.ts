import type { ConvertedSchemas } from './schema-carrier.js'
import type { Content, OperationShape, OperationSkeleton, SchemaSlot } from './operation-description.js'
import { eachSubschema } from './subschemas.js'
import type { SentHeaders } from './signature.js'
import type { Json } from '../util/json.js'

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
