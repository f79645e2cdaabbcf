import type { CallbackDefinition } from '../definition/definition.js'
import { readableSchemas } from '../definition/schema-kind.js'
import { DuplicateDefinitionError, InvalidDefinitionError } from '../util/errors.js'
import { namedDefinitions } from './named-callbacks.js'
import type { NamedCallback } from './named-callbacks.js'
import { describeWithCallbacks, nestedDefinitions } from './nested-callbacks.js'
import { titleCase } from './operation-description.js'
import { processRawMap } from './raw-callbacks.js'
import type { Carry } from './raw-callbacks.js'
import { routeTemplate } from './route-template.js'
import { toNative } from './schema-carrier.js'
import type { ConvertedSchemas, NativeOperation } from './schema-carrier.js'
import { carryRoute, claimDefinitionOperationId, identifier } from './registry.js'
import type { CallbackRegistry, CarriedOperation } from './registry.js'
import { compileCallbackKey } from '../expression/template.js'
import type { CallbackUrlTemplate, ParentRoute } from '../expression/template.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

export interface RouteView {
  method: string | string[]
  url: string
  /** The route's schema: its own `callbacks` field is not read, `callbacks` below is. */
  schema: Json
  callbacks: unknown
}

/** A callback of one route, ready to be documented and sent. */
export interface RouteCallback {
  /** The callback operation's operationId: unique in the document, and the same in every process that runs the same app code. */
  key: string
  definition: CallbackDefinition
  name: string
  template: CallbackUrlTemplate
}

const NO_SCHEMAS: unknown[] = []

export interface ProcessedCallbacks {
  /**
   * The map handed to @fastify/swagger in place of the route's `schema.callbacks`. @fastify/swagger builds plain
   * objects keyed by callback names and expression keys, where a name such as `__proto__` would set a prototype:
   * so all the route's operations travel as one operation under a name of the plugin's, whose carrier id brings them
   * back, and the document gets the real names back. Empty when nothing is documented.
   */
  native: Record<string, Record<string, Record<string, NativeOperation>>>
  callbacks: RouteCallback[]
}

/**
 * Reads a route's `schema.callbacks` once, when the route is registered: names, expressions checked
 * against the route's own schemas, operationIds, and the operations @fastify/swagger will convert.
 */
export function processRouteCallbacks (
  route: RouteView,
  registry: CallbackRegistry,
  resolveRef: (ref: string) => unknown,
  inherited: readonly NamedCallback[] = []
): ProcessedCallbacks {
  const method = Array.isArray(route.method) ? route.method.join(',') : route.method
  const routeLabel = `route ${method} ${route.url}`
  if (Array.isArray(route.method) && route.method.length > 1) {
    throw new InvalidDefinitionError(routeLabel, 'a route with several methods cannot declare callbacks, because @fastify/swagger shares one operation between its methods and the callbacks\' operationIds would repeat: declare one route per method')
  }
  const own = route.callbacks === undefined ? [] : namedDefinitions(routeLabel, route.callbacks)
  let parent: ParentRoute | undefined
  const parentRoute = (): ParentRoute => {
    if (parent !== undefined) return parent
    // a route's zod schemas (fastify-type-provider-zod) are read as the JSON Schema they convert to
    const schemas = readableSchemas(route.schema, 'input')
    parent = {
      label: routeLabel,
      querystring: schemas.querystring,
      params: schemas.params,
      headers: schemas.headers,
      body: schemas.body,
      response: schemas.response as Record<string, unknown> | undefined,
      resolveRef
    }
    return parent
  }
  const carried: CarriedOperation[] = []
  const carry: Carry = (name, key, method, label, schemas, assemble, share) => {
    // a route has a few callbacks: a scan, not a set of joined strings (a name or key may hold any separator)
    if (carried.some(other => other.name === name && other.key === key && other.method === method)) {
      throw new DuplicateDefinitionError(label, `${method.toUpperCase()} ${key} is declared twice under this name`)
    }
    // a definition's schemas are the same array on every route that uses it: converted once, in the shared carrier
    const viaCarrier = registry.carrier.share(schemas)
    const operation: CarriedOperation = { name, key, method, label, schemas, viaCarrier, assemble }
    if (share !== undefined) operation.share = share
    carried.push(operation)
  }
  const referenced = new Map<string, string>()
  const refer = (name: string, label: string, object: Json): void => {
    referenced.set(name, label)
    // nothing to convert: the carrier only brings the reference back in its place; 3.0's Reference Object has no summary
    // or description. A copy: the app may give several routes one object, which YAML would write as an alias
    const assemble = (_converted: ConvertedSchemas, openapi30: boolean): Json => openapi30 ? { $ref: object.$ref } : { ...object }
    const checkKey = (key: string): void => { compileCallbackKey(key, { ...parentRoute(), label }) }
    carried.push({ name, key: '', method: '', label, schemas: NO_SCHEMAS, viaCarrier: false, assemble, reference: { ref: object.$ref as string, checkKey } })
  }
  const rawNames = own === undefined ? processRawMap(route.callbacks as Json, route.schema, parentRoute(), registry, carry, refer) : new Set<string>()
  // FastAPI's order: the contexts' callbacks, outer to inner, then the route's own
  const entries = [...inherited, ...own ?? []]
  for (const { name } of entries) {
    const label = referenced.get(name)
    if (label !== undefined) throw new DuplicateDefinitionError(label, 'this name is given a $ref and a callback definition; a name holds one Callback Object')
  }

  const parentId = typeof route.schema.operationId === 'string' ? route.schema.operationId : identifier(`${method.toLowerCase()}_${route.url}`)
  const compiled = entries.map(({ name, definition }) => {
    const label = `${routeLabel}, callback "${name}"`
    return { name, definition, label, template: routeTemplate(registry.templates, definition.url, route.schema, () => ({ ...parentRoute(), label })) }
  })
  const shares = registry.sharing.enabled ? shareKeys(compiled, rawNames, registry.sharing) : new Map<string, string>()
  const baseIds = compiled.map(({ name, definition }) => `${parentId}_${identifier(name)}_${definition.method.toLowerCase()}`)
  const callbacks = compiled.map(({ name, definition, label, template }, index): RouteCallback => {
    const baseId = baseIds[index]!
    const generatedId = baseIds.indexOf(baseId) === baseIds.lastIndexOf(baseId) ? baseId : `${baseId}_${identifier(template.key)}`
    // claimed before it is described, so that the operation carries the id it was given
    const operationId = claimDefinitionOperationId(registry, definition.operationId, generatedId, label)
    // a hidden callback is sendable but documented nowhere: not even an empty Path Item
    if (!definition.hide) {
      const { schemas, assemble } = describeWithCallbacks(definition, { summary: definition.summary ?? titleCase(name), operationId }, label, registry, resolveRef)
      carry(name, template.key, definition.method.toLowerCase(), label, schemas, assemble, shares.get(name))
    }
    return { key: operationId, definition, name, template }
  })
  return { native: carried.length === 0 ? {} : routeCarrier(registry, carried), callbacks }
}

// the name the route's operations travel under, the same on every route, so that these objects share their shapes
const CARRIED = 'callbacks'

/** One operation that carries all of the route's: the carrier id is a value, and the schemas not in the shared carrier. */
function routeCarrier (registry: CallbackRegistry, operations: CarriedOperation[]): ProcessedCallbacks['native'] {
  const schemas = travellingSchemas(registry, operations.filter(({ viaCarrier }) => !viaCarrier).map(operation => operation.schemas))
  return { [CARRIED]: { [CARRIED]: { post: toNative(carryRoute(registry, { operations, schemas }), schemas) } } }
}

/**
 * The schemas that travel with a route, one operation's after another's: the operation's own array when it is the
 * only one, and one array for every route whose operations bring the same arrays, so that its escaped form is made once.
 */
function travellingSchemas (registry: CallbackRegistry, lists: unknown[][]): unknown[] {
  if (lists.length === 0) return NO_SCHEMAS
  if (lists.length === 1) return lists[0]!
  let joined = registry.joinedSchemas.get(lists)
  if (joined === undefined) registry.joinedSchemas.set(lists, joined = lists.flat())
  return joined
}

/**
 * For `document.sharedCallbacks`, a key for each name of a route's callbacks that says what its Callback Object will
 * be: the same definitions, in the same order, under the same normalised expressions. A name that also holds raw
 * operations, or whose definitions read a parameter container through a `$ref` (each route resolves it against its
 * own shared schemas), gets none and stays inline.
 */
function shareKeys (
  compiled: ReadonlyArray<{ name: string, definition: CallbackDefinition, label: string, template: CallbackUrlTemplate }>,
  rawNames: ReadonlySet<string>,
  sharing: CallbackRegistry['sharing']
): Map<string, string> {
  const byName = new Map<string, unknown[]>()
  const unsharable = new Set(rawNames)
  for (const { name, definition, label, template } of compiled) {
    if (!sharable(definition, label)) unsharable.add(name)
    let number = sharing.definitions.get(definition)
    if (number === undefined) sharing.definitions.set(definition, number = sharing.next++)
    byName.set(name, [...byName.get(name) ?? [name], number, template.key])
  }
  return new Map([...byName].filter(([name]) => !unsharable.has(name)).map(([name, parts]) => [name, JSON.stringify(parts)]))
}

/** A definition, and its nested callbacks, documented the same on every route: no parameter container is a `$ref`. */
function sharable (definition: CallbackDefinition, label: string, depth = 0): boolean {
  const { headers, querystring } = definition.schema as Json
  if ([headers, querystring].some(container => isObject(container) && container.$ref !== undefined)) return false
  const nested = definition.callbacks === undefined ? [] : nestedDefinitions(definition, label, depth)
  // a raw map here is refused when the callback is described, unless it is hidden and never described
  return nested !== undefined && nested.every(({ name, definition }) => sharable(definition, `${label}, callback "${name}"`, depth + 1))
}

/** Reads a `$ref` ('Invoice#', 'Invoice') as the shared schema of that id, added with fastify.addSchema(). */
export function sharedSchemaResolver (getSchema: (id: string) => unknown): (ref: string) => unknown {
  return (ref) => getSchema(ref.split('#', 1)[0]!)
}
