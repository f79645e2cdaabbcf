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

/**
 * A deep copy of JSON data, by a work list, as schemas may be thousands deep. A key named `__proto__` stays an own
 * property, as in JSON.parse.
 */
export function copyJson<T> (value: T): T {
  const copy = (node: unknown): unknown => typeof node !== 'object' || node === null ? node : Array.isArray(node) ? new Array(node.length) : {}
  const top = copy(value)
  const pending: Array<[from: object, to: object]> = top === value ? [] : [[value as object, top as object]]
  while (pending.length > 0) {
    const [from, to] = pending.pop()!
    for (const key of Object.keys(from)) {
      const original = (from as Json)[key]
      const copied = copy(original)
      if (key === '__proto__') Object.defineProperty(to, key, { value: copied, enumerable: true, writable: true, configurable: true })
      else (to as Json)[key] = copied
      if (copied !== original) pending.push([original as object, copied as object])
    }
  }
  return top as T
}
