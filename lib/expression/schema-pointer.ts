import { ARRAY_INDEX, decodeToken } from './grammar.js'

type Json = Record<string, unknown>

/** How a walk reads a schema: shared schemas by id, and whether property names are matched ignoring case (headers). */
export interface PointerOptions {
  /** The shared schema of an id (the part of a `$ref` before '#'), or undefined. */
  resolveRef: (ref: string) => unknown
  ignoreCase?: boolean
}

// Where `$ref`s resolve: `#…` in the current resource (the nearest schema with an `$id`), other ids in the document
// being walked (TypeBox's Cyclic and Recursive refer to embedded `$id`s), then among the route's shared schemas.
interface Scope {
  options: PointerOptions
  document: unknown
  resource: unknown
}

/** True if `schema` declares a value at `pointer`, through properties, items, composition and `$ref`s. */
export function declares (schema: unknown, pointer: readonly string[], options: PointerOptions): boolean {
  return resolves(schema, pointer, 0, { options, document: schema, resource: schema }, new Set())
}
// `followed` holds the `$ref` targets entered since the last token was consumed: meeting one again is a cycle.
function resolves (schema: unknown, pointer: readonly string[], index: number, scope: Scope, followed: Set<unknown>): boolean {
  if (schema === true) return index === pointer.length
  if (!isObjectOrArray(schema)) return false
  if (index === pointer.length) return true
  const inner = typeof schema.$id === 'string' ? { ...scope, resource: schema } : scope
  if (children(schema, pointer[index]!, scope.options.ignoreCase === true).some(child => resolves(child, pointer, index + 1, inner, new Set()))) return true
  const branches = ['allOf', 'anyOf', 'oneOf'].flatMap(keyword => Array.isArray(schema[keyword]) ? schema[keyword] as unknown[] : [])
  if (branches.some(branch => resolves(branch, pointer, index, inner, followed))) return true
  if (typeof schema.$ref !== 'string') return false
  const target = followRef(schema.$ref, inner)
  if (target === undefined || followed.has(target.schema)) return false
  followed.add(target.schema)
  return resolves(target.schema, pointer, index, target.scope, followed)
}

/** The subschemas that apply to the value under `token`, as a JSON Schema validator would pick them. */
function children (schema: Json, token: string, ignoreCase: boolean): unknown[] {
  const found: unknown[] = []
  const properties = isObjectOrArray(schema.properties) ? schema.properties : {}
  const property = ignoreCase
    ? Object.keys(properties).find(name => name.toLowerCase() === token.toLowerCase())
    : (Object.hasOwn(properties, token) ? token : undefined)
  if (property !== undefined) found.push(properties[property])
  for (const [pattern, child] of Object.entries(isObjectOrArray(schema.patternProperties) ? schema.patternProperties : {})) {
    if (matches(pattern, token)) found.push(child)
  }
  if (found.length === 0) found.push(schema.additionalProperties)
  if (ARRAY_INDEX.test(token)) {
    const position = Number(token)
    // 2020-12 tuples are `prefixItems` then `items`; draft-07 tuples (TypeBox's) are an `items` array then `additionalItems`
    const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined
    if (tuple === undefined) found.push(schema.items)
    else found.push(position < tuple.length ? tuple[position] : Array.isArray(schema.prefixItems) ? schema.items : schema.additionalItems)
  }
  return found
}

function matches (pattern: string, token: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(token)
  } catch {
    return false
  }
}

/** The schema a `$ref` designates, and the scope its own `$ref`s resolve in; undefined if it designates nothing. */
function followRef (ref: string, scope: Scope): { schema: unknown, scope: Scope } | undefined {
  const hash = ref.indexOf('#')
  const id = hash === -1 ? ref : ref.slice(0, hash)
  const fragment = hash === -1 ? '' : ref.slice(hash + 1)
  let { document, resource } = scope
  if (id !== '') {
    resource = findResource(document, id, new Set())
    if (resource === undefined) {
      resource = scope.options.resolveRef(id)
      document = resource
    }
  }
  const schema = fragmentTarget(resource, fragment)
  return schema === undefined ? undefined : { schema, scope: { ...scope, document, resource } }
}

/** The schema with this `$id` (a trailing '#' ignored) inside `node`. */
function findResource (node: unknown, id: string, visited: Set<unknown>): unknown {
  if (!isObjectOrArray(node) || visited.has(node)) return undefined
  visited.add(node)
  if (typeof node.$id === 'string' && node.$id.replace(/#$/, '') === id) return node
  for (const value of Object.values(node)) {
    const found = findResource(value, id, visited)
    if (found !== undefined) return found
  }
  return undefined
}

/** Walks a `$ref` fragment ('', '/$defs/Node', URI-encoded) from the resource. Anchors ('#name') are not supported. */
function fragmentTarget (resource: unknown, fragment: string): unknown {
  if (fragment === '') return resource
  if (!fragment.startsWith('/')) return undefined
  let node = resource
  for (const token of fragment.slice(1).split('/')) {
    let name: string
    try {
      name = decodeToken(decodeURIComponent(token))
    } catch {
      return undefined
    }
    node = isObjectOrArray(node) && Object.hasOwn(node, name) ? node[name] : undefined
  }
  return node
}

export function isObjectOrArray (value: unknown): value is Json {
  return typeof value === 'object' && value !== null
}
