/**
 * How deep a callback's or webhook's schemas may nest objects and arrays. They end up in the document, which
 * JSON.stringify and YAML write by recursion (YAML fails near 700 levels, JSON near 5,000), as does @fastify/swagger
 * when it converts them: a bound well below those, checked where the definition is made, fails early and by name.
 */
export const MAX_SCHEMA_DEPTH = 256

/** True if `value` nests objects and arrays deeper than `limit`; an object that contains itself nests without end. */
export function nestsDeeperThan (value: unknown, limit: number): boolean {
  // the deepest level each object was met at: met again no deeper, it adds nothing
  const deepest = new Map<object, number>()
  const pending: Array<[node: unknown, depth: number]> = [[value, 1]]
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth > limit) return true
    if ((deepest.get(node) ?? 0) >= depth) continue
    deepest.set(node, depth)
    for (const child of Object.values(node)) pending.push([child, depth + 1])
  }
  return false
}
