// @fastify/swagger's additions to FastifySchema (operationId, hide) are read below
import type {} from '@fastify/swagger'
import type { FastifySchema, RouteOptions } from 'fastify'
import { claimOperationId } from './registry.js'
import type { CallbackRegistry } from './registry.js'
import { processRouteCallbacks, sharedSchemaResolver } from './route-callbacks.js'
import type { NamedCallback, RouteCallback } from './route-callbacks.js'

/** A route's callbacks, and the schema object the route keeps: request.routeOptions.schema gives it back. */
export interface DocumentedRoute {
  schema: FastifySchema
  callbacks: RouteCallback[]
}

/**
 * What the plugin does with each route, in Fastify's onRoute hook: it claims the route's operationId, and swaps its
 * `schema.callbacks` for the operations @fastify/swagger will convert. Undefined when the route has no callbacks.
 */
export function documentRoute (
  routeOptions: RouteOptions,
  registry: CallbackRegistry,
  getSchema: (id: string) => unknown,
  inherited: readonly NamedCallback[]
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
  // a copy, as one schema object may serve several routes; then the field, as a spread followed by fields takes a slow path in V8
  const copy: FastifySchema = { ...schema }
  copy.callbacks = native as unknown as FastifySchema['callbacks']
  routeOptions.schema = copy
  return { schema: routeOptions.schema, callbacks: processed.callbacks }
}
