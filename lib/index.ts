import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { createCallbacks } from './delivery/api.js'
import type { CallbackDefinition } from './definition/definition.js'
import type { DeliveryOptions } from './delivery/options.js'
import { createContextCallbacks, holdsDefinitions } from './document/context-callbacks.js'
import type { DocumentOptions } from './document/document-options.js'
import { createRegistry } from './document/registry.js'
import { declaresCallbacks, documentRoutes, seeRoute } from './document/route-hook.js'
import type { SeenRoute } from './document/route-hook.js'
import { sentHeaders } from './document/signature.js'
import { completeSwaggerDecorator } from './document/swagger-decorator.js'
import { createWebhooks } from './document/webhooks.js'
import { CARRIER_SCHEMA_ID } from './document/schema-carrier.js'
import { normalisePluginOptions } from './plugin-options.js'
import type { WebhookRouter } from './document/webhooks.js'

export interface FastifyOpenapiCallbacksOptions {
  /** The `decorator` name(s) given to @fastify/swagger, when not the default `swagger`. */
  decorator?: string | readonly string[]
  /** Sending callbacks and webhooks: signing, address policy, retries, timeouts, store and hooks. */
  delivery?: DeliveryOptions
  /**
   * What the document says beyond the definitions: `{ signature: false }` leaves out the Standard Webhooks headers,
   * `{ sharedCallbacks: true }` puts a Callback Object that several routes share into `components.callbacks`.
   */
  document?: DocumentOptions
}

/** What `fastify.routeCallbacks()` accepts: `router.routes`, one definition, or a record of them. */
export type ContextCallbacksOption =
  | readonly CallbackDefinition[]
  | CallbackDefinition
  | Readonly<Record<string, CallbackDefinition | readonly CallbackDefinition[]>>

/** A Reference Object in place of a callback: the Callback Object of that name in `components.callbacks`. */
export interface CallbackReference {
  /** `#/components/callbacks/<name>`: checked and resolved when the document is built, at `ready()` */
  $ref: string
  /** OpenAPI 3.1 and later; left out of a 3.0 document. */
  summary?: string
  description?: string
}

/** What a route schema's `callbacks` accepts; `false` leaves out its contexts' callbacks too. */
export type RouteCallbacksOption =
  | ContextCallbacksOption
  | Readonly<Record<string, CallbackDefinition | readonly CallbackDefinition[] | CallbackReference | Readonly<Record<string, Readonly<Record<string, unknown>>>>>>
  | false

declare module 'fastify' {
  interface FastifyInstance {
    /** OpenAPI 3.1 webhooks, declared like routes: `fastify.webhooks.post('new-subscription', { schema })`. */
    webhooks: WebhookRouter
    /** Resolves targets of callbacks, and sends or queues callbacks and webhooks. */
    callbacks: FastifyOpenapiCallbacksApi
    /**
     * Callbacks for every route declared after this call in this context and the contexts it registers, listed
     * before each route's own, as FastAPI's `APIRouter(callbacks=...)`. A route opts out with `schema.callbacks: false`.
     */
    routeCallbacks: (callbacks: ContextCallbacksOption) => FastifyInstance
  }
  interface FastifySchema {
    /** Callbacks of this operation: `router.routes`, one definition, a record of them, or a raw OpenAPI callbacks map. */
    callbacks?: RouteCallbacksOption
  }
}

const openapiCallbacks: FastifyPluginAsync<FastifyOpenapiCallbacksOptions> = async function (fastify, options) {
  const { decorator: decorators, delivery, document: { signature, sharedCallbacks } } = normalisePluginOptions(options)
  // the document promises a signature exactly when one is sent: always with a secret, per subscriber with secretFor alone
  const signing = delivery.secret.length > 0 ? 'always' : delivery.secretFor === undefined ? 'never' : 'by-subscriber'
  const registry = createRegistry(sentHeaders(signing, signature), sharedCallbacks)
  let warnedUnsupported = false
  // one child logger: every line the plugin writes says it is the plugin's
  const log = fastify.log.child({ plugin: 'fastify-openapi-callbacks' })
  const webhooks = createWebhooks(registry, message => log.warn(message))
  fastify.decorate('webhooks', webhooks.router)
  // payloads may $ref schemas added in any context, as @fastify/swagger's document does: they are read at ready()
  const contexts: FastifyInstance[] = [fastify]
  const sharedSchemas: unknown[] = []
  const callbacks = createCallbacks(delivery, log, () => sharedSchemas, webhooks.declared)
  fastify.decorate('callbacks', callbacks.api)
  const contextCallbacks = createContextCallbacks()
  fastify.decorate('routeCallbacks', function (this: FastifyInstance, definitions: ContextCallbacksOption) {
    contextCallbacks.add(this, definitions)
    return this
  })
  fastify.addHook('onRegister', (instance, registerOptions) => {
    contexts.push(instance)
    // register(plugin, { callbacks }): applied at the start of the new context, as if it called routeCallbacks() first
    const { callbacks: given } = registerOptions as { callbacks?: unknown }
    if (holdsDefinitions(given)) contextCallbacks.add(instance, given, 'the register() option `callbacks`')
  })
  fastify.addHook('onClose', callbacks.close)
  const documents = decorators.map(decorator => completeSwaggerDecorator(fastify, decorator, {
    registry,
    extend: webhooks.document,
    unsupported: () => {
      if (warnedUnsupported || registry.carried.size === 0) return
      warnedUnsupported = true
      log.warn('Swagger 2.0 cannot express callbacks, so they are left out of this document. Set @fastify/swagger\'s `openapi` option to document them.')
    }
  }))

  const seenRoutes: SeenRoute[] = []
  fastify.addHook('onRoute', function (routeOptions) {
    seenRoutes.push(seeRoute(routeOptions, id => this.getSchema(id), contextCallbacks.of(this)))
  })

  // @fastify/swagger reads the shared schemas in its own onReady, which runs before this plugin's: every route is
  // declared by then, but not yet read
  const getSchemas = fastify.getSchemas
  fastify.getSchemas = function () {
    const carrier = registry.carrier.sharedSchemas(() => webhooks.documented() || seenRoutes.some(declaresCallbacks))
    return carrier === undefined ? getSchemas.call(this) : { ...getSchemas.call(this), [CARRIER_SCHEMA_ID]: carrier }
  }

  // Building the document now is what lets a route the plugin never saw fail at startup, not on the first /docs request.
  fastify.addHook('onReady', async function () {
    fastify.getSchemas = getSchemas
    documentRoutes(seenRoutes, registry, ({ schema, callbacks: documented, ...route }) => { callbacks.registry.addRoute(schema, route, documented) })
    sharedSchemas.push(...contexts.flatMap(context => Object.values(context.getSchemas())))
    registry.titles.add(sharedSchemas)
    contexts.length = 0
    webhooks.seal()
    registry.carrier.seal(registry.titles)
    for (const document of documents) document()
    await callbacks.ready()
  })
}

export const fastifyOpenapiCallbacks = fp(openapiCallbacks, {
  fastify: '5.x',
  name: 'fastify-openapi-callbacks',
  dependencies: ['@fastify/swagger']
})

export default fastifyOpenapiCallbacks
export { callbackRouter } from './definition/callback-router.js'
export type { CallbackRouter, CallbackRouteOptions } from './definition/callback-router.js'
export type { WebhookRouter, WebhookRouteOptions } from './document/webhooks.js'
export type { CallbackDefinition, CallbackOptions, ExternalDocs, NestedCallbacks, OperationOptions, OperationSchema, Server, WebhookDefinition } from './definition/definition.js'
export type { HttpMethod } from './definition/methods.js'
export type { CallbacksApi, FanOutResult, PayloadOf, ResponseOf, SendOptionsOf, SendResult, Subscriber, TargetOf } from './delivery/api.js'
export type { SendOptions } from './delivery/parameters.js'
export type { SecretRequest, SecretResolver } from './delivery/secrets.js'
export type { AttemptEvent, AttemptResult, Delivered, NotDelivered } from './delivery/sender.js'
export type { DeliveryOptions, IsolationOptions } from './delivery/options.js'
export type { Admission, ReceiverUnhealthyEvent } from './delivery/receivers.js'
export type { DocumentOptions } from './document/document-options.js'
export { DEFAULT_SCHEDULE } from './delivery/options.js'
export type { DeliveryMessage } from './delivery/message.js'
export type { FinalOutcome } from './outcome-policy/outcome-policy.js'
export type { OutcomeEvent } from './delivery/runner.js'
export type { AttemptStep, DeliveryEngine, EngineContext, PendingMessage } from './delivery/engines/engine.js'
export { createMemoryEngine } from './delivery/engines/memory-engine.js'
export type { MemoryEngineOptions } from './delivery/engines/memory-engine.js'
export type { CallbackTarget, ResponseContext, Target, TargetResult, WebhookTarget } from './delivery/target.js'
export { webhookReceiver } from './standard-webhooks/receiver.js'
export type { ReplayOptions, WebhookReceiverOptions } from './standard-webhooks/receiver.js'
export type { ReplayStore } from './standard-webhooks/replay-store.js'
export { parseSecret, verifyWebhook } from './standard-webhooks/signing.js'
export type { VerifyOptions } from './standard-webhooks/signing.js'
