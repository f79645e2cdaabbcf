import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/**
 * An operation of a raw OpenAPI callbacks map goes through @fastify/swagger as a definition's does: only its
 * schemas are converted (carried in the `allOf`), and everything else, names included, stays as written.
 * @fastify/swagger would convert the whole requestBody and responses as if they were schemas, so a media type,
 * status code or header named like a JSON Schema keyword (`definitions`, `const`, `$id`, ...) would be changed.
 */
export function describeRawOperation (operation: Json): { schemas: unknown[], assemble: (converted: readonly unknown[]) => Json } {
  const schemas: unknown[] = []
  withSchemas(operation, schema => schemas.push(schema))
  return {
    schemas,
    assemble (converted) {
      let slot = 0
      const { requestBody, responses, ...fields } = withSchemas(operation, () => converted[slot++])
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
function withSchemas (operation: Json, replace: (schema: unknown) => unknown): Json {
  const content = (holder: Json): Json => isObject(holder.content)
    ? { ...holder, content: mapEntries(holder.content, media => isObject(media) && Object.hasOwn(media, 'schema') ? { ...media, schema: replace(media.schema) } : media) }
    : holder
  const { requestBody, responses } = operation
  return {
    ...operation,
    ...(isObject(requestBody) ? { requestBody: content(requestBody) } : {}),
    ...(isObject(responses)
      ? {
          // checked to be objects, where the raw map is read
          responses: mapEntries(responses, value => {
            const response = value as Json
            const withHeaders = isObject(response.headers)
              ? { ...response, headers: mapEntries(response.headers, header => isObject(header) && Object.hasOwn(header, 'schema') ? { ...header, schema: replace(header.schema) } : header) }
              : response
            return content(withHeaders)
          })
        }
      : {})
  }
}

function mapEntries (record: Json, map: (value: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name, map(value)]))
}
