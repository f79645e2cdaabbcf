import type { FastifyRequest } from 'fastify'
import type { AddressPolicy } from '../address-policy/address-policy.js'
import { describeDefinition } from '../definition/definition.js'
import type { CallbackDefinition, HttpMethod, OperationDefinition } from '../definition/definition.js'
import { CallbackNotOnRouteError, InvalidTargetError, ResponseRequiredError } from '../util/errors.js'
import type { RouteCallback } from '../document/route-callbacks.js'
import { isObject } from '../util/json.js'

/** Where a callback goes, resolved while the request that creates the event is handled. Plain JSON: store it with the record. */
export interface CallbackTarget {
  kind: 'callback'
  /** The callback's name on its route. */
  name: string
  method: HttpMethod
  /** The absolute URL, normalised and checked against the address policy. */
  url: string
}

/** A subscriber's endpoint for a webhook. A URL string given to send() or enqueue() stands for one. */
export interface WebhookTarget {
  kind: 'webhook'
  name: string
  method: HttpMethod
  url: string
}

export type Target = CallbackTarget | WebhookTarget

/** A resolved target, or the expression that had no value: then there is nothing to send. */
export type TargetResult = { ok: true, target: CallbackTarget } | { ok: false, missing: string }

/** The reply, for keys that read `$statusCode`, `$response.header.*` or `$response.body#…`. */
export interface ResponseContext {
  statusCode: number
  headers?: Record<string, unknown>
  body?: unknown
}

export interface Targets {
  /** Remembers a route's callbacks by the schema object the route keeps, which request.routeOptions.schema gives back. */
  register (schema: object, callbacks: readonly RouteCallback[]): void
  resolve (definition: CallbackDefinition, request: FastifyRequest, response?: ResponseContext): TargetResult
}

export function createTargets (policy: AddressPolicy): Targets {
  const byRoute = new WeakMap<object, readonly RouteCallback[]>()
  return {
    register (schema, callbacks) {
      byRoute.set(schema, callbacks)
    },
    resolve (definition, request, response) {
      const { schema } = request.routeOptions
      const callback = (schema === undefined ? undefined : byRoute.get(schema))?.find(entry => entry.definition === definition)
      if (callback === undefined) {
        throw new CallbackNotOnRouteError(describeDefinition(definition), `route ${request.method} ${request.routeOptions.url}`)
      }
      const { name, template } = callback
      if (template.needsResponse && response === undefined) throw new ResponseRequiredError(`callback "${name}"`, template.key)
      const evaluation = template.evaluate({
        url: `${request.protocol}://${request.host}${request.url}`,
        method: request.method,
        request: { params: request.params, query: request.query, headers: request.headers, body: request.body },
        response
      })
      if (!evaluation.ok) return evaluation
      // refused now, while the client that gave the URL still gets the answer
      return { ok: true, target: { kind: 'callback', name, method: definition.method, url: policy.checkUrl(evaluation.url) } }
    }
  }
}

/**
 * A target given to send() or enqueue(), checked again (it may come from a database): it must be this definition's,
 * and its URL must pass the address policy. Throws FST_OPENAPI_CALLBACKS_INVALID_TARGET, _INVALID_URL or _FORBIDDEN_ADDRESS.
 */
export function checkTarget (definition: OperationDefinition, target: unknown, policy: AddressPolicy): Target {
  const given = definition.kind === 'webhook' && typeof target === 'string'
    ? { kind: 'webhook', name: definition.name, method: definition.method, url: target }
    : target
  if (!isObject(given) || typeof given.url !== 'string' || typeof given.name !== 'string') {
    throw new InvalidTargetError(describeDefinition(definition), definition.kind === 'webhook'
      ? 'expected the subscriber\'s URL, or { kind: \'webhook\', name, method, url }'
      : 'expected { kind: \'callback\', name, method, url }, as fastify.callbacks.target() returns it')
  }
  if (given.kind !== definition.kind || given.method !== definition.method || given.name !== (definition.name ?? given.name)) {
    throw new InvalidTargetError(describeDefinition(definition), `the target is for ${String(given.kind)} ${String(given.method)} "${given.name}"`)
  }
  return { kind: definition.kind, name: given.name, method: definition.method, url: policy.checkUrl(given.url) }
}
