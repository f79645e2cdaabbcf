import type { FastifyRequest } from 'fastify'
import type { AddressPolicy } from '../address-policy/address-policy.js'
import { describeDefinition } from '../definition/definition.js'
import type { CallbackDefinition, HttpMethod, OperationDefinition } from '../definition/definition.js'
import { CallbackNotOnRouteError, InvalidTargetError, ResponseRequiredError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { DeliveryRegistry } from './registry.js'

/** Where a callback goes, resolved while the request that creates the event is handled. Plain JSON: store it with the record. */
export interface CallbackTarget {
  kind: 'callback'
  /** The callback's stable key, unique in the app (its operationId): it says which route's callback this is. */
  key: string
  /** The callback's name on its route. */
  name: string
  method: HttpMethod
  /** The absolute URL, normalised and checked against the address policy. */
  url: string
}

/** A subscriber's endpoint for a webhook. A URL string given to send() or enqueue() stands for one. */
export interface WebhookTarget {
  kind: 'webhook'
  /** The webhook's stable key (its operationId). */
  key: string
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

/** Resolves a callback's target from the request being handled, by the route's registered callbacks. */
export function createTargetResolver (policy: AddressPolicy, registry: DeliveryRegistry) {
  return function resolve (definition: CallbackDefinition, request: FastifyRequest, response?: ResponseContext): TargetResult {
    const { schema, method, url } = request.routeOptions
    const callback = (schema === undefined ? undefined : registry.ofRoute(schema, { method, url }))?.find(entry => entry.definition === definition)
    if (callback === undefined) {
      throw new CallbackNotOnRouteError(describeDefinition(definition), `route ${request.method} ${url}`)
    }
    const { key, name, template } = callback
    if (template.needsResponse && response === undefined) throw new ResponseRequiredError(`callback "${name}"`, template.key)
    const evaluation = template.evaluate({
      url: `${request.protocol}://${request.host}${request.url}`,
      method: request.method,
      request: { params: request.params, query: request.query, headers: request.headers, body: request.body },
      response
    })
    if (!evaluation.ok) return evaluation
    // refused now, while the client that gave the URL still gets the answer
    return { ok: true, target: { kind: 'callback', key, name, method: definition.method, url: policy.checkUrl(evaluation.url) } }
  }
}

/**
 * A target given to send() or enqueue(), checked again (it may come from a database): its key must name this very
 * definition, as registered on its route or with fastify.webhooks, and its URL must pass the address policy.
 * Throws FST_OPENAPI_CALLBACKS_INVALID_TARGET, _INVALID_URL or _FORBIDDEN_ADDRESS.
 */
export function checkTarget (definition: OperationDefinition, target: unknown, policy: AddressPolicy, registry: DeliveryRegistry): Target {
  // described only for an error: a valid target builds no text
  const label = (): string => describeDefinition(definition)
  if (definition.kind === 'webhook' && typeof target === 'string') {
    const key = registry.webhookKey(definition)
    if (key === undefined) throw new InvalidTargetError(label(), 'this webhook was not declared with fastify.webhooks, so it has no key to send by')
    return { kind: 'webhook', key, name: definition.name, method: definition.method, url: policy.checkUrl(target) }
  }
  if (!isObject(target) || typeof target.url !== 'string' || typeof target.key !== 'string') {
    throw new InvalidTargetError(label(), definition.kind === 'webhook'
      ? 'expected the subscriber\'s URL, or { kind: \'webhook\', key, name, method, url }'
      : 'expected { kind: \'callback\', key, name, method, url }, as fastify.callbacks.target() returns it')
  }
  const key = JSON.stringify(target.key)
  const registered = registry.byKey(target.key)
  if (registered === undefined) throw new InvalidTargetError(label(), `the target's key ${key} names no callback or webhook of this app`)
  if (registered.definition !== definition) {
    throw new InvalidTargetError(label(), `the target's key ${key} belongs to ${describeDefinition(registered.definition)}, another definition`)
  }
  if (target.kind !== definition.kind || target.method !== definition.method || target.name !== registered.name) {
    throw new InvalidTargetError(label(), `the target is for ${String(target.kind)} ${String(target.method)} "${String(target.name)}", but its key ${key} is ${definition.kind} ${definition.method} "${registered.name}"`)
  }
  return { kind: definition.kind, key: registered.key, name: registered.name, method: definition.method, url: policy.checkUrl(target.url) } as Target
}
