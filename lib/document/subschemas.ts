import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

const COMBINATORS = ['allOf', 'anyOf', 'oneOf']

/** Visits a schema's subschemas, not the schema itself: a work list, not recursion, as the app's schemas may be thousands deep. */
export function eachSubschema (root: Json, visit: (schema: Json) => void): void {
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
