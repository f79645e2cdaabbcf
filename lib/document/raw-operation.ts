import { documentSchema, isZodSchema } from '../definition/schema-kind.js'
import type { SchemaIo } from '../definition/schema-kind.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/**
 * An operation of a raw OpenAPI callbacks map goes through @fastify/swagger as a definition's does: only its
 * schemas are converted (carried in the `allOf`), and everything else, names included, stays as written.
 * @fastify/swagger would convert the whole requestBody and responses as if they were schemas, so a media type,
 * status code or header named like a JSON Schema keyword (`definitions`, `const`, `$id`, ...) would be changed.
 */
export interface RawDescription { schemas: unknown[], assemble: (converted: readonly unknown[], openapi30: boolean) => Json }

export function describeRawOperation (operation: Json): RawDescription {
  const schemas: unknown[] = []
  withSchemas(operation, schema => schemas.push(isZodSchema(schema) ? {} : schema))
  return {
    schemas,
    assemble (converted, openapi30) {
      let slot = 0
      // a zod schema is not for @fastify/swagger: it travelled as an empty schema, and zod writes it for the document's version
      const { requestBody, responses, ...fields } = withSchemas(operation, (schema, io) => {
        const done = converted[slot++]
        return isZodSchema(schema) ? documentSchema(schema, io, openapi30) : done
      })
      return {
        ...fields,
        ...(requestBody === undefined ? {} : { requestBody }),
        // @fastify/swagger's default for a callback without responses
        responses: responses ?? { '2XX': { description: 'Default Response' } }
      }
    }
  }
}

/** A copy of the operation with each schema replaced, always in the same order. */
/** `io`: the request body is what the plugin sends (a schema's output), responses what it reads back (an input). */
function withSchemas (operation: Json, replace: (schema: unknown, io: SchemaIo) => unknown): Json {
  const content = (holder: Json, io: SchemaIo): Json => isObject(holder.content)
    ? { ...holder, content: mapEntries(holder.content, media => isObject(media) && Object.hasOwn(media, 'schema') ? { ...media, schema: replace(media.schema, io) } : media) }
    : holder
  const { requestBody, responses } = operation
  return {
    ...operation,
    ...(isObject(requestBody) ? { requestBody: content(requestBody, 'output') } : {}),
    ...(isObject(responses)
      ? {
          // checked to be objects, where the raw map is read
          responses: mapEntries(responses, value => {
            const response = value as Json
            const withHeaders = isObject(response.headers)
              ? { ...response, headers: mapEntries(response.headers, header => isObject(header) && Object.hasOwn(header, 'schema') ? { ...header, schema: replace(header.schema, 'input') } : header) }
              : response
            return content(withHeaders, 'input')
          })
        }
      : {})
  }
}

function mapEntries (record: Json, map: (value: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name, map(value)]))
}
