import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'
import type { SchemaTitles } from './generated-titles.js'

/** Where a document keeps its shared schemas, and how its `$ref`s point there (OpenAPI, or Swagger 2.0's definitions). */
export function schemaComponents (document: Json): { schemas: Json, prefix: string } {
  return isObject(document.components)
    ? { schemas: document.components.schemas as Json, prefix: '#/components/schemas/' }
    : { schemas: document.definitions as Json, prefix: '#/definitions/' }
}

/** The components a value's `$ref`s reach, directly or through other components: a work list, as schemas may be thousands deep. */
function reachable (roots: unknown[], schemas: Json, prefix: string): Set<string> {
  const found = new Set<string>()
  const pending = [...roots]
  while (pending.length > 0) {
    const node = pending.pop()
    if (typeof node !== 'object' || node === null) continue
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(prefix)) {
        const name = decodeURIComponent(value.slice(prefix.length)).replace(/~1/g, '/').replace(/~0/g, '~')
        if (!found.has(name) && Object.hasOwn(schemas, name)) {
          found.add(name)
          pending.push(schemas[name])
        }
      } else {
        pending.push(value)
      }
    }
  }
  return found
}

/**
 * A document that cannot express webhooks (3.0, Swagger 2.0) drops them: the components only they used go too,
 * or linters report them unused. A component the rest of the document uses stays.
 */
export function dropComponentsOnlyFor (document: Json, dropped: unknown): void {
  const { schemas, prefix } = schemaComponents(document)
  const { components, definitions, ...rest } = document
  // the Callback Objects shared under components use schemas too
  const used = reachable([rest, (components as Json | undefined)?.callbacks], schemas, prefix)
  for (const name of reachable([dropped], schemas, prefix)) {
    if (!used.has(name)) delete schemas[name]
  }
}

// @fastify/swagger's names for components, when it copies a schema's `$id` into an absent title
const GENERATED_NAME = /^def-\d+$/

/** A title @fastify/swagger copied from a generated `$id` tells the reader nothing: it is taken out. */
export function dropGeneratedTitles (document: Json, titles: SchemaTitles): void {
  const { schemas } = schemaComponents(document)
  for (const [name, schema] of Object.entries(schemas)) {
    if (GENERATED_NAME.test(name) && isObject(schema) && titles.isCopiedId(schema.title)) delete schema.title
  }
}
