import { eachObject, isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/**
 * @fastify/swagger rebuilds every `properties` map of a schema by assignment, so a property named `__proto__` would
 * set the map's prototype instead, and be lost (or, for webhooks, have its keywords copied in as properties); and
 * its ref resolver takes a property named `$id` for a schema id, and throws. Such properties (and, to stay
 * reversible, any already named with the prefix) travel through @fastify/swagger prefixed, and lose the prefix in
 * the document.
 */
const PREFIX = 'x-fastify-openapi-callbacks-name:'

function needsEscape (name: string): boolean {
  return name === '__proto__' || name.startsWith('$') || name.startsWith(PREFIX)
}

/** The schemas, copied with such properties renamed if there is one; the same schemas otherwise. */
export function escapeNames (schemas: unknown[]): unknown[] {
  if (!hasNameToEscape(schemas)) return schemas
  // a deep copy, by a work list: schemas may be deep, and share objects
  const copies = new Map<object, Json | unknown[]>()
  const pending: Array<[original: object, copy: Json | unknown[], isProperties: boolean]> = []
  const copyOf = (value: unknown, isProperties = false): unknown => {
    if (typeof value !== 'object' || value === null) return value
    let copy = copies.get(value)
    if (copy === undefined) {
      copy = Array.isArray(value) ? [] : {}
      copies.set(value, copy)
      pending.push([value, copy, isProperties])
    }
    return copy
  }
  const top = copyOf(schemas) as unknown[]
  while (pending.length > 0) {
    const [original, copy, isProperties] = pending.pop()!
    for (const [key, value] of Object.entries(original)) {
      const name = isProperties && needsEscape(key) ? PREFIX + key : key
      // defineProperty, not assignment: any object (`$defs`, an example) may hold an own `__proto__`
      Object.defineProperty(copy, name, { value: copyOf(value, !isProperties && key === 'properties' && !Array.isArray(original)), enumerable: true, writable: true, configurable: true })
    }
  }
  return top
}

/** Gives converted schemas their property names back, in place: they are @fastify/swagger's fresh copies. */
export function restoreNames (schemas: unknown[]): unknown[] {
  eachSchemaObject(schemas, (node, properties) => {
    if (Object.keys(properties).some(name => name.startsWith(PREFIX))) {
      node.properties = Object.fromEntries(Object.entries(properties).map(([name, value]) => [name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name, value]))
    }
  })
  return schemas
}

function hasNameToEscape (schemas: unknown[]): boolean {
  let found = false
  eachSchemaObject(schemas, (_, properties) => { found ||= Object.keys(properties).some(needsEscape) })
  return found
}

/** Calls `visit` with every object below `roots` that has a `properties` map, once each. */
function eachSchemaObject (roots: unknown[], visit: (node: Json, properties: Json) => void): void {
  eachObject(roots, node => { if (!Array.isArray(node) && isObject((node as Json).properties)) visit(node as Json, (node as Json).properties as Json) })
}
