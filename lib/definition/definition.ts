import { InvalidDefinitionError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import { CARRIED_FIELDS, checkCallbackName, checkOptions, isExtension } from './definition-options.js'
import { HTTP_METHODS, httpMethod } from './methods.js'
import type { HttpMethod } from './methods.js'

export type { HttpMethod } from './methods.js'

/** The schemas of a callback or webhook operation, as in a Fastify route's `schema`. */
export interface OperationSchema {
  body?: unknown
  headers?: unknown
  querystring?: unknown
  /** Refused: nothing fills a path parameter of a callback's or webhook's URL. Use a runtime expression in the key, or `querystring`. */
  params?: never
  response?: Readonly<Record<string | number, unknown>>
  /** Media types of the body (default `application/json`), as @fastify/swagger reads them for routes. */
  consumes?: readonly string[]
  /** Media types of the responses (default `application/json`). */
  produces?: readonly string[]
}

/** An OpenAPI External Documentation Object. */
export interface ExternalDocs { url: string, description?: string }

/** An OpenAPI Server Object. */
export interface Server {
  url: string
  description?: string
  variables?: Readonly<Record<string, { default: string, enum?: readonly string[], description?: string }>>
}

export interface OperationOptions<S extends OperationSchema = OperationSchema> {
  summary?: string
  description?: string
  operationId?: string
  tags?: readonly string[]
  deprecated?: boolean
  /** Security Requirements, as on an Operation: `[{ schemeName: [] }]`; `[]` says none. Schemes are declared in @fastify/swagger's `components.securitySchemes`. */
  security?: ReadonlyArray<Readonly<Record<string, readonly string[]>>>
  /** Documented nowhere, but still resolvable by `target()` and sendable, as @fastify/swagger's route `schema.hide`. */
  hide?: boolean
  externalDocs?: ExternalDocs
  servers?: readonly Server[]
  schema?: S
  /** Specification extensions, carried to the operation as they are. */
  [extension: `x-${string}`]: unknown
}

interface OperationFields<S extends OperationSchema> {
  readonly method: HttpMethod
  readonly summary?: string | undefined
  readonly description?: string | undefined
  readonly operationId?: string | undefined
  readonly tags?: readonly string[] | undefined
  readonly deprecated?: boolean | undefined
  readonly security?: ReadonlyArray<Readonly<Record<string, readonly string[]>>> | undefined
  readonly hide: boolean
  /** The Operation fields carried as given: `externalDocs`, `servers` and `x-*` extensions, in the order given. */
  readonly extensions: ReadonlyArray<readonly [field: string, value: unknown]>
  readonly schema: S
}

/** The callbacks of a callback operation, in the forms a route's `schema.callbacks` takes definitions. */
export type NestedCallbacks =
  | readonly CallbackDefinition[]
  | CallbackDefinition
  | Readonly<Record<string, CallbackDefinition | readonly CallbackDefinition[]>>

export interface CallbackDefinition<S extends OperationSchema = OperationSchema> extends OperationFields<S> {
  readonly kind: 'callback'
  /** The callback operation's own callbacks, documented under it; their expressions read its schemas. */
  readonly callbacks: NestedCallbacks | undefined
  /** The key under the operation's `callbacks`; a record given to `schema.callbacks` can name it instead. */
  readonly name: string | undefined
  /** The callback's URL: a runtime-expression key, FastAPI's shorthand accepted. */
  readonly url: string
}

export interface WebhookDefinition<S extends OperationSchema = OperationSchema> extends OperationFields<S> {
  readonly kind: 'webhook'
  /** The webhook operation's callbacks, documented under it; their expressions read its schemas. */
  readonly callbacks: NestedCallbacks | undefined
  readonly name: string
}

export type OperationDefinition = CallbackDefinition | WebhookDefinition

// Symbol.for, so definitions made by the ESM and the CJS build of this package are recognised alike
const kDefinition = Symbol.for('fastify-openapi-callbacks.definition')

export function isDefinition (value: unknown): value is OperationDefinition {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, kDefinition)
}

function checkMethod (label: string, method: unknown): HttpMethod {
  const checked = httpMethod(method)
  if (checked === undefined) throw new InvalidDefinitionError(label, `method ${JSON.stringify(method)} is not one of ${HTTP_METHODS.join(', ')}`)
  return checked
}

function operationFields<S extends OperationSchema> (method: HttpMethod, options: OperationOptions<S>): OperationFields<S> {
  return {
    method,
    summary: options.summary,
    description: options.description,
    operationId: options.operationId,
    tags: options.tags === undefined ? undefined : Object.freeze([...options.tags]),
    deprecated: options.deprecated,
    security: options.security === undefined
      ? undefined
      : Object.freeze(options.security.map(entry => Object.freeze(Object.fromEntries(Object.entries(entry).map(([scheme, scopes]) => [scheme, Object.freeze([...scopes])]))))),
    hide: options.hide === true,
    extensions: Object.freeze(Object.entries(options)
      .filter(([key]) => CARRIED_FIELDS.has(key) || isExtension(key))
      .map(([key, value]) => Object.freeze([key, structuredClone(value)] as const))),
    schema: Object.freeze({ ...options.schema }) as S
  }
}

export interface CallbackOptions<S extends OperationSchema = OperationSchema> extends OperationOptions<S> {
  /** The key under the operation's `callbacks`: FastAPI's route name. */
  name?: string
  /** Callbacks of this callback operation (nested callbacks), documented under it. */
  callbacks?: NestedCallbacks
}

export function defineCallback<S extends OperationSchema> (method: unknown, url: unknown, options: CallbackOptions<S> = {}): CallbackDefinition<S> {
  const label = `callback ${String(method)} ${String(url)}${options.name === undefined ? '' : ` ("${options.name}")`}`
  if (!isObject(options)) throw new InvalidDefinitionError(label, 'options must be an object')
  const checkedMethod = checkMethod(label, method)
  if (typeof url !== 'string' || url.trim() === '') throw new InvalidDefinitionError(label, 'the url must be a non-empty runtime-expression key such as "{$request.query.callback_url}/events"')
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '')) {
    throw new InvalidDefinitionError(label, 'name must be a non-empty string')
  }
  if (options.name !== undefined) checkCallbackName(options.name, fault => { throw new InvalidDefinitionError(label, fault) })
  checkOptions(label, options, ['callbacks'])
  return Object.freeze({
    kind: 'callback',
    name: options.name,
    callbacks: ownCallbacks(options.callbacks),
    url,
    ...operationFields<S>(checkedMethod, options),
    [kDefinition]: true
  })
}

export interface WebhookOptions<S extends OperationSchema = OperationSchema> extends OperationOptions<S> {
  /** Callbacks of this webhook operation, documented under it, as a callback definition's. */
  callbacks?: NestedCallbacks
}

// a copy of a list, so that it cannot change under the definition; its forms are read where the definition is documented
const ownCallbacks = (callbacks: unknown): NestedCallbacks | undefined =>
  Array.isArray(callbacks) ? Object.freeze([...callbacks]) : callbacks as NestedCallbacks | undefined

export function defineWebhook<S extends OperationSchema> (method: unknown, name: unknown, options: WebhookOptions<S> = {}): WebhookDefinition<S> {
  const label = `webhook ${String(method)} ${JSON.stringify(name)}`
  if (!isObject(options)) throw new InvalidDefinitionError(label, 'options must be an object')
  const checkedMethod = checkMethod(label, method)
  if (typeof name !== 'string' || name.trim() === '') throw new InvalidDefinitionError(label, 'a webhook needs a non-empty name, its key under `webhooks`')
  checkOptions(label, options, ['callbacks'])
  return Object.freeze({
    kind: 'webhook',
    name,
    callbacks: ownCallbacks(options.callbacks),
    ...operationFields<S>(checkedMethod, options),
    [kDefinition]: true
  })
}

/** A label naming the definition, as errors about definitions write it. */
export function describeDefinition (definition: OperationDefinition): string {
  return definition.kind === 'webhook'
    ? `webhook ${definition.method} "${definition.name}"`
    : `callback ${definition.method} ${definition.url}${definition.name === undefined ? '' : ` ("${definition.name}")`}`
}
