import { isDefinition } from '../definition/definition.js'
import type { CallbackDefinition } from '../definition/definition.js'
import { DuplicateDefinitionError, InvalidDefinitionError } from '../util/errors.js'
import { CARRIER, describeOperation, titleCase, toNative } from './operation.js'
import type { NativeOperation, OperationSkeleton } from './operation.js'
import { compileCallbackKey } from '../expression/runtime-expression.js'
import type { CallbackUrlTemplate } from '../expression/runtime-expression.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

export interface RouteView {
  method: string | string[]
  url: string
  schema: Json
}

/** A callback of one route, ready to be documented and sent. */
export interface RouteCallback {
  /** Its operationId: unique in the app, the same in every process that registers it. */
  key: string
  definition: CallbackDefinition
  name: string
  template: CallbackUrlTemplate
}

/** What the document needs to put an operation back together, by carrier id. */
export type CarriedOperation =
  | { kind: 'definition', skeleton: OperationSkeleton }
  | { kind: 'raw', fields: Json, defaultResponses: boolean }

/** State shared by every route of one plugin instance. */
export interface CallbackRegistry {
  operationIds: Map<string, string>
  carried: Map<string, CarriedOperation>
}

const RAW_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/** An operationId-safe form of a name or path. */
export function identifier (text: string): string {
  return text.replace(/[\W_]+/g, '_').replace(/^_+|_+$/g, '')
}

/** Claims an operationId for the whole document; a second claim is a startup error naming both. */
export function claimOperationId (registry: CallbackRegistry, operationId: string, owner: string): void {
  const previous = registry.operationIds.get(operationId)
  if (previous !== undefined) {
    throw new DuplicateDefinitionError(owner, `operationId "${operationId}" is already used by ${previous}; operationIds must be unique in the document`)
  }
  registry.operationIds.set(operationId, owner)
}

type Entry = { name: string, definition: CallbackDefinition }

/** The four forms `schema.callbacks` accepts, as named definitions; undefined for a raw OpenAPI map. */
function namedDefinitions (routeLabel: string, callbacks: unknown): Entry[] | undefined {
  const fail = (fault: string): never => { throw new InvalidDefinitionError(routeLabel, fault) }
  const checked = (value: unknown, where: string): CallbackDefinition => {
    if (!isDefinition(value)) return fail(`${where} is not a callback definition: make it with callbackRouter()`)
    if (value.kind !== 'callback') return fail(`${where} is a webhook; declare webhooks with fastify.webhooks, not in schema.callbacks`)
    return value
  }
  const unnamed = (definition: CallbackDefinition, where: string): string =>
    definition.name ?? fail(`${where} (${definition.method} ${definition.url}) has no name: give it { name } or put it in a record { name: definition }`)

  if (Array.isArray(callbacks)) {
    return callbacks.map((value, index) => {
      const definition = checked(value, `schema.callbacks[${index}]`)
      return { name: unnamed(definition, `schema.callbacks[${index}]`), definition }
    })
  }
  if (isDefinition(callbacks)) {
    const definition = checked(callbacks, 'schema.callbacks')
    return [{ name: unnamed(definition, 'schema.callbacks'), definition }]
  }
  if (!isObject(callbacks)) return fail('schema.callbacks must be router.routes, a callback definition, a record of them, or an OpenAPI callbacks map')
  const values = Object.values(callbacks)
  const isRecord = (value: unknown): boolean => isDefinition(value) || (Array.isArray(value) && value.some(isDefinition))
  if (!values.some(isRecord)) return undefined
  return Object.entries(callbacks).flatMap(([name, value]) => {
    const list = Array.isArray(value) ? value : [value]
    return list.map((item, index) => {
      const where = `schema.callbacks.${name}${Array.isArray(value) ? `[${index}]` : ''}`
      const definition = checked(item, where)
      if (definition.name !== undefined && definition.name !== name) {
        fail(`${where} is named "${definition.name}" but stands under the key "${name}"; the names must agree`)
      }
      return { name, definition }
    })
  })
}

export interface ProcessedCallbacks {
  /** The map handed to @fastify/swagger in place of the route's `schema.callbacks`. */
  native: Record<string, Record<string, Record<string, NativeOperation | Json>>>
  callbacks: RouteCallback[]
}

/**
 * Reads a route's `schema.callbacks` once, when the route is registered: names, expressions checked
 * against the route's own schemas, operationIds, and the operations @fastify/swagger will convert.
 */
export function processRouteCallbacks (route: RouteView, registry: CallbackRegistry, resolveRef: (ref: string) => unknown): ProcessedCallbacks {
  const method = Array.isArray(route.method) ? route.method.join(',') : route.method
  const routeLabel = `route ${method} ${route.url}`
  if (Array.isArray(route.method) && route.method.length > 1) {
    throw new InvalidDefinitionError(routeLabel, 'a route with several methods cannot declare callbacks, because @fastify/swagger shares one operation between its methods and the callbacks\' operationIds would repeat: declare one route per method')
  }
  const entries = namedDefinitions(routeLabel, route.schema.callbacks)
  const parent = {
    label: routeLabel,
    querystring: route.schema.querystring,
    params: route.schema.params,
    headers: route.schema.headers,
    body: route.schema.body,
    response: route.schema.response as Record<string, unknown> | undefined,
    resolveRef
  }
  if (entries === undefined) return { native: processRawMap(route.schema.callbacks as Json, parent, registry), callbacks: [] }

  const parentId = typeof route.schema.operationId === 'string' ? route.schema.operationId : identifier(`${method.toLowerCase()}_${route.url}`)
  const compiled = entries.map(({ name, definition }) => {
    const label = `${routeLabel}, callback "${name}"`
    return { name, definition, label, template: compileCallbackKey(definition.url, { ...parent, label }) }
  })
  const seen = new Set<string>()
  const baseIds = compiled.map(({ name, definition }) => `${parentId}_${identifier(name)}_${definition.method.toLowerCase()}`)
  const native: ProcessedCallbacks['native'] = {}
  const callbacks: RouteCallback[] = []
  for (const [index, { name, definition, label, template }] of compiled.entries()) {
    const slot = `${definition.method} ${template.key}`
    if (seen.has(`${name}\n${slot}`)) {
      throw new DuplicateDefinitionError(label, `${slot} is declared twice under this name`)
    }
    seen.add(`${name}\n${slot}`)
    const baseId = baseIds[index]!
    const operationId = definition.operationId === undefined
      ? (baseIds.indexOf(baseId) === baseIds.lastIndexOf(baseId) ? baseId : `${baseId}_${identifier(template.key)}`)
      : definition.operationId
    claimOperationId(registry, operationId, label)
    callbacks.push({ key: operationId, name, definition, template })
    const { skeleton, schemas } = describeOperation(
      definition,
      { summary: definition.summary ?? titleCase(name), operationId },
      container => resolveContainer(container, resolveRef, label)
    )
    const id = `callback-${registry.carried.size}`
    registry.carried.set(id, { kind: 'definition', skeleton })
    native[name] ??= {}
    native[name][template.key] ??= {}
    native[name][template.key]![definition.method.toLowerCase()] = toNative(id, schemas)
  }
  return { native, callbacks }
}

/** A parameter container given as a `$ref` to a shared schema is read through it. */
function resolveContainer (container: Json, resolveRef: (ref: string) => unknown, label: string): Json {
  if (typeof container.$ref !== 'string') return container
  const resolved = resolveRef(container.$ref)
  if (!isObject(resolved)) throw new InvalidDefinitionError(label, `parameter schema "${container.$ref}" is not a shared schema added with fastify.addSchema()`)
  return resolved
}

/** A raw OpenAPI callbacks map is kept as it is, but checked, so that it cannot turn into garbage. */
function processRawMap (callbacks: Json, parent: Parameters<typeof compileCallbackKey>[1], registry: CallbackRegistry): ProcessedCallbacks['native'] {
  const native: ProcessedCallbacks['native'] = {}
  for (const [name, pathItems] of Object.entries(callbacks)) {
    const label = `${parent.label}, callback "${name}"`
    if (!isObject(pathItems)) throw new InvalidDefinitionError(label, 'a callback must map runtime expressions to path items')
    native[name] = {}
    for (const [key, pathItem] of Object.entries(pathItems)) {
      const template = compileCallbackKey(key, { ...parent, label })
      if (!isObject(pathItem)) throw new InvalidDefinitionError(label, `the path item of "${key}" must be an object of operations`)
      const operations: Record<string, Json> = {}
      for (const [method, operation] of Object.entries(pathItem)) {
        if (!RAW_METHODS.has(method)) {
          throw new InvalidDefinitionError(label, `"${method}" under "${key}" is not a lower-case HTTP method; @fastify/swagger would turn it into an operation. Use callbackRouter() for summaries and parameters`)
        }
        if (!isObject(operation)) throw new InvalidDefinitionError(label, `${method} under "${key}" must be an operation object`)
        const { requestBody, responses, ...fields } = operation
        if (typeof fields.operationId === 'string') claimOperationId(registry, fields.operationId, label)
        const id = `callback-${registry.carried.size}`
        registry.carried.set(id, { kind: 'raw', fields, defaultResponses: responses === undefined })
        operations[method] = {
          ...(requestBody === undefined ? {} : { requestBody }),
          responses: { ...(isObject(responses) ? responses : {}), [CARRIER]: id }
        }
      }
      native[name][template.key] = operations
    }
  }
  return native
}

/** Reads a `$ref` ('Invoice#', 'Invoice') as the shared schema of that id, added with fastify.addSchema(). */
export function sharedSchemaResolver (getSchema: (id: string) => unknown): (ref: string) => unknown {
  return (ref) => getSchema(ref.split('#', 1)[0]!)
}
