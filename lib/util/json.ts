/** A JSON object: a schema, an OpenAPI object, an options bag. */
export type Json = Record<string, unknown>

/** An object that is not an array (nor null). */
export function isObject (value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
