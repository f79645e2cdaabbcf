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

const COMBINATORS = ['allOf', 'anyOf', 'oneOf']

/**
 * True if `schema` declares a value at `pointer`, through properties, items, composition and `$ref`s.
 * A search over (subschema, token index, scope) states with a work list, not recursion: pointers and schemas come
 * from the app's code and may be thousands deep. Each state is entered once, which also ends `$ref` cycles.
 */
export function declares (schema: unknown, pointer: readonly string[], options: PointerOptions): boolean {
  const entered = enteredStates()
  const pending: Array<{ schema: unknown, index: number, scope: Scope }> = [{ schema, index: 0, scope: { options, document: schema, resource: schema } }]
  while (pending.length > 0) {
    const { schema, index, scope } = pending.pop()!
    if (schema === true && index === pointer.length) return true
    if (!isObjectOrArray(schema)) continue
    if (index === pointer.length) return true
    if (!entered(schema, index, scope)) continue
    const inner = typeof schema.$id === 'string' ? { ...scope, resource: schema } : scope
    for (const child of children(schema, pointer[index]!, options.ignoreCase === true)) pending.push({ schema: child, index: index + 1, scope: inner })
    for (const keyword of COMBINATORS) {
      const branches = schema[keyword]
      if (Array.isArray(branches)) for (const branch of branches) pending.push({ schema: branch, index, scope: inner })
    }
    const target = typeof schema.$ref === 'string' ? followRef(schema.$ref, inner) : undefined
    if (target !== undefined) pending.push({ schema: target.schema, index, scope: target.scope })
  }
  return false
}

/** A test that says true the first time a state is met, false after. */
function enteredStates (): (schema: object, index: number, scope: Scope) => boolean {
  const numbers = new Map<unknown, number>()
  const numberOf = (value: unknown): number => {
    let number = numbers.get(value)
    if (number === undefined) numbers.set(value, number = numbers.size)
    return number
  }
  const states = new Set<string>()
  return (schema, index, { document, resource }) => {
    const state = `${numberOf(schema)} ${index} ${numberOf(resource)} ${numberOf(document)}`
    if (states.has(state)) return false
    states.add(state)
    return true
  }
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
    resource = findResource(document, id)
    if (resource === undefined) {
      resource = scope.options.resolveRef(id)
      document = resource
    }
  }
  const schema = fragmentTarget(resource, fragment)
  return schema === undefined ? undefined : { schema, scope: { ...scope, document, resource } }
}

/** The schema with this `$id` (a trailing '#' ignored) inside `root`, the first in document order. */
function findResource (root: unknown, id: string): unknown {
  const visited = new Set<unknown>()
  const pending = [root]
  while (pending.length > 0) {
    const node = pending.pop()
    if (!isObjectOrArray(node) || visited.has(node)) continue
    visited.add(node)
    if (typeof node.$id === 'string' && node.$id.replace(/#$/, '') === id) return node
    const values = Object.values(node)
    for (let at = values.length - 1; at >= 0; at--) pending.push(values[at])
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
