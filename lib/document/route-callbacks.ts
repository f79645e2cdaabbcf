import { checkCallbackName, checkHeaderNames, isDefinition } from '../definition/definition.js'
import type { CallbackDefinition, OperationDefinition } from '../definition/definition.js'
import { httpMethod } from '../definition/methods.js'
import { readableSchemas } from '../definition/schema-kind.js'
import { DuplicateDefinitionError, InvalidDefinitionError } from '../util/errors.js'
import { assembleOperation, callbacksObject, describeOperation, titleCase, toNative } from './operation.js'
import { describeRawOperation } from './raw-operation.js'
import { callbackReference } from './callback-components.js'
import type { ContainerResolver, ConvertedSchemas, NativeOperation } from './operation.js'
import { carryRoute, claimDefinitionOperationId, claimOperationId, identifier } from './registry.js'
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

/** A callback definition and the name it stands under. */
export interface NamedCallback { name: string, definition: CallbackDefinition }

/** The four forms `schema.callbacks` accepts, as named definitions; undefined for a raw OpenAPI map. */
export function namedDefinitions (routeLabel: string, callbacks: unknown, option = 'schema.callbacks'): NamedCallback[] | undefined {
  const fail = (fault: string): never => { throw new InvalidDefinitionError(routeLabel, fault) }
  const checked = (value: unknown, where: string): CallbackDefinition => {
    if (!isDefinition(value)) return fail(`${where} is not a callback definition: make it with callbackRouter()`)
    if (value.kind !== 'callback') return fail(`${where} is a webhook; declare webhooks with fastify.webhooks, not in ${option}`)
    return value
  }
  const unnamed = (definition: CallbackDefinition, where: string): string =>
    definition.name ?? fail(`${where} (${definition.method} ${definition.url}) has no name: give it { name } or put it in a record { name: definition }`)

  if (Array.isArray(callbacks)) {
    return callbacks.map((value, index) => {
      const definition = checked(value, `${option}[${index}]`)
      return { name: unnamed(definition, `${option}[${index}]`), definition }
    })
  }
  if (isDefinition(callbacks)) {
    const definition = checked(callbacks, option)
    return [{ name: unnamed(definition, option), definition }]
  }
  if (!isObject(callbacks)) return fail(`${option} must be router.routes, a callback definition, a record of them, or an OpenAPI callbacks map`)
  const values = Object.values(callbacks)
  const isRecord = (value: unknown): boolean => isDefinition(value) || (Array.isArray(value) && value.some(isDefinition))
  if (!values.some(isRecord)) return undefined
  return Object.entries(callbacks).flatMap(([name, value]) => {
    const list = Array.isArray(value) ? value : [value]
    return list.map((item, index) => {
      const where = `${option}.${name}${Array.isArray(value) ? `[${index}]` : ''}`
      if (name.trim() === '') fail(`${option} has a blank key ${JSON.stringify(name)}: a callback's name must be a non-empty string`)
      checkCallbackName(name, fault => fail(`${where}: ${fault}`))
      const definition = checked(item, where)
      if (definition.name !== undefined && definition.name !== name) {
        fail(`${where} is named "${definition.name}" but stands under the key "${name}"; the names must agree`)
      }
      return { name, definition }
    })
  })
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

// A template depends only on the key and the route's schemas: routes that share those objects share the compiled
// template, and each route is still checked, as its own schemas are the key. A check that read a shared schema
// (`$ref`) is not shared, as each context has its own shared schemas.
function routeTemplate (templates: CallbackRegistry['templates'], url: string, schema: Json, parentRoute: () => ParentRoute): CallbackUrlTemplate {
  const inputs = [url, schema.querystring, schema.params, schema.headers, schema.body, schema.response]
  const known = templates.get(inputs)
  if (known !== undefined) return known
  const parent = parentRoute()
  let resolved = false
  const template = compileCallbackKey(url, { ...parent, resolveRef: ref => { resolved = true; return parent.resolveRef(ref) } })
  if (!resolved) templates.set(inputs, template)
  return template
}

type Carry = (name: string, key: string, method: string, label: string, schemas: unknown[], assemble: CarriedOperation['assemble'], share?: string) => void

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

// Callbacks nest by definitions, and a record can be changed after a definition is made to hold the definition itself
const MAX_CALLBACK_NESTING = 32

/** The named definitions of the callbacks of an operation `depth` levels below a route's callbacks or a webhook; undefined for a raw map. */
function nestedDefinitions (definition: OperationDefinition, label: string, depth: number): NamedCallback[] | undefined {
  // the operation and those above it are depth + 1 levels: its callbacks would be one more
  if (depth + 1 >= MAX_CALLBACK_NESTING) {
    throw new InvalidDefinitionError(label, `callbacks nest more than ${MAX_CALLBACK_NESTING} levels deep, or a definition is among its own callbacks`)
  }
  return namedDefinitions(label, definition.callbacks, 'callbacks')
}

export interface DescribedOperation {
  schemas: unknown[]
  assemble: (converted: ConvertedSchemas, openapi30: boolean) => Json
}

/**
 * A callback or webhook operation and, under it, its own callbacks, recursively: their expressions read the
 * operation's schemas, and their schemas travel after its own in the same carrier. A parameter container given as a
 * `$ref` is read through `resolveRef`, unless `containers` reads it otherwise.
 */
export function describeWithCallbacks (
  definition: OperationDefinition,
  fields: { summary: string, operationId: string },
  label: string,
  registry: CallbackRegistry,
  resolveRef: (ref: string) => unknown,
  containers: ContainerResolver = (container, key) => resolveContainer(container, key, resolveRef, label),
  depth = 0
): DescribedOperation {
  const { operationId } = fields
  const { skeleton, schemas } = describeOperation(definition, fields, containers, registry.descriptions)
  const nested = nestedCallbacks(definition, operationId, label, registry, resolveRef, depth)
  if (nested.length === 0) return { schemas, assemble: (converted, openapi30) => assembleOperation(skeleton, converted, openapi30, registry.sent) }
  return {
    schemas: [...schemas, ...nested.flatMap(({ described }) => described.schemas)],
    assemble ({ schemas: all, exampled }, openapi30) {
      const operation = assembleOperation(skeleton, { schemas: all.slice(0, schemas.length), exampled }, openapi30, registry.sent)
      let offset = schemas.length
      operation.callbacks = callbacksObject(nested.map(({ described, ...place }) => {
        const own = all.slice(offset, offset += described.schemas.length)
        return { ...place, operation: described.assemble({ schemas: own, exampled }, openapi30) }
      }))
      return operation
    }
  }
}

function nestedCallbacks (
  definition: OperationDefinition,
  operationId: string,
  label: string,
  registry: CallbackRegistry,
  resolveRef: (ref: string) => unknown,
  depth: number
): Array<{ name: string, key: string, method: string, described: DescribedOperation }> {
  if (definition.callbacks === undefined) return []
  const entries = nestedDefinitions(definition, label, depth)
  if (entries === undefined) throw new InvalidDefinitionError(label, `callbacks of a ${definition.kind} must be router.routes, a callback definition or a record of them`)
  // a zod definition's schemas are read as the JSON Schema of what the plugin sends
  const { querystring, headers, body, response } = readableSchemas(definition.schema as Json, 'output')
  const places = new Set<string>()
  return entries.flatMap(({ name, definition: nested }) => {
    const nestedLabel = `${label}, callback "${name}"`
    // checked against the callback operation's own schemas: its request is what the nested callback reads
    const template = compileCallbackKey(nested.url, { label: nestedLabel, querystring, headers, body, response: response as Record<string, unknown> | undefined, resolveRef })
    const method = nested.method.toLowerCase()
    const place = JSON.stringify([name, template.key, method])
    if (places.has(place)) throw new DuplicateDefinitionError(nestedLabel, `${nested.method} ${template.key} is declared twice under this name`)
    places.add(place)
    if (nested.hide) return []
    const nestedId = claimDefinitionOperationId(registry, nested.operationId, `${operationId}_${identifier(name)}_${method}`, nestedLabel)
    return [{ name, key: template.key, method, described: describeWithCallbacks(nested, { summary: nested.summary ?? titleCase(name), operationId: nestedId }, nestedLabel, registry, resolveRef, undefined, depth + 1) }]
  })
}

/** A parameter container given as a `$ref` to a shared schema is read through it, and checked as the definition checks its own. */
function resolveContainer (container: Json, key: string, resolveRef: (ref: string) => unknown, label: string): Json {
  if (typeof container.$ref !== 'string') return container
  const resolved = resolveRef(container.$ref)
  if (!isObject(resolved)) throw new InvalidDefinitionError(label, `parameter schema "${container.$ref}" is not a shared schema added with fastify.addSchema()`)
  if (key === 'headers' && isObject(resolved.properties)) checkHeaderNames(Object.keys(resolved.properties), fault => { throw new InvalidDefinitionError(label, fault) })
  return resolved
}

/** A raw OpenAPI callbacks map is kept as it is, but checked, so that it cannot turn into garbage. */
function processRawMap (
  callbacks: Json,
  routeSchema: Json,
  parent: ParentRoute,
  registry: CallbackRegistry,
  carry: Carry,
  refer: (name: string, label: string, reference: Json) => void
): Set<string> {
  const names = new Set<string>()
  for (const [name, pathItems] of Object.entries(record(callbacks, parent.label, 'schema.callbacks'))) {
    const label = `${parent.label}, callback "${name}"`
    checkCallbackName(name, fault => { throw new InvalidDefinitionError(label, fault) })
    // a Reference Object to a Callback Object of the document's components, checked once the document is built
    const reference = callbackReference(pathItems, label)
    if (reference !== undefined) {
      refer(name, label, reference)
      continue
    }
    names.add(name)
    if (!isObject(pathItems)) throw new InvalidDefinitionError(label, 'a callback must map runtime expressions to path items')
    for (const [key, pathItem] of Object.entries(record(pathItems, label, 'the callback'))) {
      const template = routeTemplate(registry.templates, key, routeSchema, () => ({ ...parent, label }))
      if (!isObject(pathItem)) throw new InvalidDefinitionError(label, `the path item of "${key}" must be an object of operations`)
      for (const [method, operation] of Object.entries(record(pathItem, label, `the path item of "${key}"`))) {
        if (httpMethod(method)?.toLowerCase() !== method) {
          throw new InvalidDefinitionError(label, `"${method}" under "${key}" is not a lower-case HTTP method; @fastify/swagger would turn it into an operation. Use callbackRouter() for summaries and parameters`)
        }
        if (!isObject(operation)) throw new InvalidDefinitionError(label, `${method} under "${key}" must be an operation object`)
        const { requestBody, responses } = operation
        if (requestBody !== undefined && !isObject(requestBody)) throw new InvalidDefinitionError(label, `${method} under "${key}": requestBody must be an object`)
        if (responses !== undefined && !(isObject(responses) && Object.values(responses).every(isObject))) {
          throw new InvalidDefinitionError(label, `${method} under "${key}": responses must map status codes to Response Objects`)
        }
        // an operation object several routes share is described once, so that its schemas are converted once
        let described = registry.descriptions.rawOperations.get(operation)
        if (described === undefined) registry.descriptions.rawOperations.set(operation, described = describeRawOperation(record(operation, label, `${method} under "${key}"`)))
        const { schemas, assemble } = described
        carry(name, template.key, method, label, schemas, (converted, openapi30) => assemble(converted.schemas, openapi30))
        if (typeof operation.operationId === 'string') claimOperationId(registry, operation.operationId, label)
      }
    }
  }
  return names
}

/**
 * A map whose keys are names from the app, checked to be a plain object: in an object literal, `__proto__: value`
 * sets the prototype instead of adding a key, and the entries would silently be lost.
 */
function record (value: Json, label: string, where: string): Json {
  const prototype = Object.getPrototypeOf(value) as object | null
  // Object.prototype of this realm or another has no prototype itself
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
    throw new InvalidDefinitionError(label, `${where} has a prototype of its own: an object literal's "__proto__: value" sets the prototype; write ["__proto__"]: value to use the name __proto__`)
  }
  return value
}

/** Reads a `$ref` ('Invoice#', 'Invoice') as the shared schema of that id, added with fastify.addSchema(). */
export function sharedSchemaResolver (getSchema: (id: string) => unknown): (ref: string) => unknown {
  return (ref) => getSchema(ref.split('#', 1)[0]!)
}
