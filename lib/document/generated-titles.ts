import type { Json } from '../util/json.js'

// TypeBox numbers the `$id`s it generates (Type.Recursive): T0, T1, ...
const GENERATED_ID = /^T\d+$/
// values, not schemas: a `$id` or `title` in them is data
const DATA_KEYWORDS = new Set(['const', 'default', 'enum', 'example', 'examples'])
// maps of schemas by a name of the app's, which may be `default` or `examples`
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'])

/**
 * @fastify/swagger gives a schema with an `$id` and no title its `$id` as a title, and the document does not say
 * which titles it wrote. So the schemas it converts are read first: a title is its copy of a generated `$id` only if
 * some schema has that `$id` and no title, and no schema has that title of its own.
 */
export interface SchemaTitles {
  /** Notes schemas @fastify/swagger will convert (any plain value: route schemas, carriers, shared schemas), read as they are when a title is asked about. */
  add: (schemas: unknown) => void
  isCopiedId: (title: unknown) => boolean
}

export function createSchemaTitles (): SchemaTitles {
  const untitledIds = new Set<string>()
  const ownTitles = new Set<string>()
  const seen = new WeakSet<object>()
  // read when a title is first asked about: most documents have no title to look up, and then no schema is walked
  const unread: unknown[] = []
  const read = (schemas: unknown): void => {
    // a work list, as schemas may be thousands deep
    const pending: Array<[node: unknown, namesSchemas: boolean]> = [[schemas, false]]
    while (pending.length > 0) {
      const [node, namesSchemas] = pending.pop()!
      // plain data only: a zod schema (a class instance) is written by the plugin, not by @fastify/swagger
      if (typeof node !== 'object' || node === null || seen.has(node) || !isPlain(node)) continue
      seen.add(node)
      const { $id, title } = node as Json
      if (typeof title === 'string') ownTitles.add(title)
      else if (typeof $id === 'string') untitledIds.add($id)
      for (const [key, value] of Object.entries(node)) {
        if (namesSchemas) pending.push([value, false])
        else if (!DATA_KEYWORDS.has(key)) pending.push([value, SCHEMA_MAPS.has(key)])
      }
    }
  }
  return {
    add (schemas) { unread.push(schemas) },
    isCopiedId (title) {
      if (typeof title !== 'string' || !GENERATED_ID.test(title)) return false
      for (const schemas of unread.splice(0)) read(schemas)
      return untitledIds.has(title) && !ownTitles.has(title)
    }
  }
}

function isPlain (node: object): boolean {
  const prototype = Object.getPrototypeOf(node) as object | null
  return Array.isArray(node) || prototype === null || Object.getPrototypeOf(prototype) === null
}
