// @fastify/swagger's additions to FastifySchema (operationId, hide) are read below
import type {} from '@fastify/swagger'
import type { FastifySchema, RouteOptions } from 'fastify'
import { claimOperationId } from './registry.js'
import type { CallbackRegistry } from './registry.js'
import { processRouteCallbacks, sharedSchemaResolver } from './route-callbacks.js'
import type { RouteCallback } from './route-callbacks.js'
import type { NamedCallback } from './named-callbacks.js'

/**
 * A route's callbacks, and what request.routeOptions gives back of the route: the schema object it keeps (a later
 * onRoute hook may give several routes one), its method and its url.
 */
export interface DocumentedRoute {
  schema: FastifySchema
  method: string | readonly string[]
  url: string
  callbacks: RouteCallback[]
}

/** A route as the plugin's onRoute hook saw it, with what its contexts gave it then. */
export interface SeenRoute {
  routeOptions: RouteOptions
  /** The url Fastify's request.routeOptions gives: Fastify may change routeOptions.url afterwards (a prefix's trailing slash twin). */
  url: string
  getSchema: (id: string) => unknown
  inherited: readonly NamedCallback[]
}

/**
 * What the plugin's onRoute hook does: it only notes the route, since an onRoute hook added later (in a child
 * context, or by a plugin registered after this one) may still set `schema.callbacks`. Fastify keeps the schema
 * object the last hook leaves, and target() finds a route's callbacks by it: so each route gets its own copy now,
 * as one schema object may serve several routes.
 */
export function seeRoute (routeOptions: RouteOptions, getSchema: (id: string) => unknown, inherited: readonly NamedCallback[]): SeenRoute {
  if (routeOptions.schema !== undefined || inherited.length > 0) routeOptions.schema = { ...routeOptions.schema }
  return { routeOptions, url: routeOptions.url, getSchema, inherited }
}

/** The route may have callbacks to document: its own, or its contexts'. */
export function declaresCallbacks ({ routeOptions, inherited }: SeenRoute): boolean {
  const callbacks = routeOptions.schema?.callbacks
  return callbacks === undefined ? inherited.length > 0 : callbacks !== false
}

/**
 * What the plugin does with each route it saw, once every onRoute hook has run (at onReady, before the document is
 * built): it claims the route's operationId, and gives @fastify/swagger a copy of the schema whose `callbacks` are
 * the operations it will convert. Undefined when the route has no callbacks.
 */
export function documentRoute (
  { routeOptions, url, getSchema, inherited }: SeenRoute,
  registry: CallbackRegistry
): DocumentedRoute | undefined {
  const method = Array.isArray(routeOptions.method) ? routeOptions.method.join(',') : routeOptions.method
  const { schema = {} } = routeOptions
  if (typeof schema.operationId === 'string' && schema.hide !== true) {
    claimOperationId(registry, `${schema.operationId}${method === 'HEAD' ? '-head' : ''}`, `route ${method} ${routeOptions.url}`)
  }
  // `callbacks: false` opts a route out of its contexts' callbacks
  const contextCallbacks = schema.callbacks === false ? [] : inherited
  const own = schema.callbacks === false ? undefined : schema.callbacks
  if (own === undefined && contextCallbacks.length === 0) {
    if (schema.callbacks === false) routeOptions.schema = { ...schema, callbacks: undefined }
    return undefined
  }
  if (method === 'HEAD') {
    // Fastify's HEAD twin of a GET route: a HEAD request has no side effects, so it documents no callbacks
    if (own !== undefined) routeOptions.schema = { ...schema, callbacks: undefined }
    return undefined
  }
  const processed = processRouteCallbacks(
    { method: routeOptions.method, url: routeOptions.url, schema: schema as Record<string, unknown>, callbacks: own },
    registry,
    sharedSchemaResolver(getSchema),
    contextCallbacks
  )
  // no callbacks left to document leave no `callbacks` field
  const native = Object.keys(processed.native).length === 0 ? undefined : processed.native
  // the schema Fastify kept stays as the app's hooks left it; @fastify/swagger reads routeOptions.schema when it builds.
  // A copy then the field, as a spread followed by fields takes a slow path in V8
  const copy: FastifySchema = { ...schema }
  copy.callbacks = native as unknown as FastifySchema['callbacks']
  routeOptions.schema = copy
  return { schema, method: routeOptions.method, url, callbacks: processed.callbacks }
}

/**
 * Reads every route seen so far, in the order they were declared, so that generated operationIds are the same in
 * every process; `addRoute` gets each route's callbacks for target().
 */
export function documentRoutes (seen: SeenRoute[], registry: CallbackRegistry, addRoute: (route: DocumentedRoute) => void): void {
  for (const route of seen) {
    const documented = documentRoute(route, registry)
    if (documented !== undefined) addRoute(documented)
    // what @fastify/swagger will convert: the route's schemas, its callbacks' carriers among them
    registry.titles.add(route.routeOptions.schema)
  }
  seen.length = 0
}
