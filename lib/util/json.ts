/** A JSON object: a schema, an OpenAPI object, an options bag. */
export type Json = Record<string, unknown>

/** An object that is not an array (nor null). */
export function isObject (value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Calls `visit` with every object or array below `roots`, once each, by a work list: schemas may be deep, and share objects. */
export function eachObject (roots: unknown[], visit: (node: object) => void): void {
  const visited = new Set<unknown>()
  const pending: unknown[] = [...roots]
  while (pending.length > 0) {
    const node = pending.pop()
    if (typeof node !== 'object' || node === null || visited.has(node)) continue
    visited.add(node)
    visit(node)
    for (const value of Object.values(node)) pending.push(value)
  }
}
