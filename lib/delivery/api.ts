import type { FastifyBaseLogger, FastifyOpenapiCallbacksApi, FastifyRequest } from 'fastify'
import { createAddressPolicy } from '../address-policy/address-policy.js'
import { describeDefinition } from '../definition/definition.js'
import type { CallbackDefinition, OperationDefinition } from '../definition/definition.js'
import { callHook, createSender } from './sender.js'
import type { AttemptResult } from './sender.js'
import type { NormalisedDeliveryOptions } from './options.js'
import { createDispatcher } from './dispatcher.js'
import { DeliveryClosedError } from '../util/errors.js'
import { createPayloadValidator } from './payload-validator.js'
import { newMessageId } from '../standard-webhooks/signing.js'
import { checkTarget, createTargets } from './target.js'
import type { CallbackTarget, ResponseContext, TargetResult, WebhookTarget } from './target.js'
import type { RouteCallback } from '../document/route-callbacks.js'

// TypeBox 0.34 schemas carry their type in a phantom `static`; other schemas (typebox 1.x, plain JSON) give unknown
type StaticOf<T> = T extends { static: infer V } ? V : unknown
type SuccessKey<R> = { [K in keyof R]: `${K & (string | number)}` extends `2${string}` | 'default' ? K : never }[keyof R]

/** The payload a definition's body schema describes. */
export type PayloadOf<D> = D extends { schema: { body: infer B } } ? StaticOf<B> : unknown
/** A receiver's 2xx answer, as the definition's `2xx`, `2XX` and `default` response schemas describe it. */
export type ResponseOf<D> = D extends { schema: { response: infer R } }
  ? [SuccessKey<R>] extends [never] ? unknown : StaticOf<R[SuccessKey<R>]>
  : unknown
/** A callback goes to the target resolved for it; a webhook to the URL a subscriber registered. */
export type TargetOf<D> = D extends { kind: 'webhook' } ? string | WebhookTarget : CallbackTarget

export type SendResult<Body = unknown> = AttemptResult<Body> & { messageId: string }

declare module 'fastify' {
  /**
   * `fastify.callbacks`. Declared in fastify's scope with method signatures: when a program loads both the CommonJS and
   * the ES module declarations of this package, their two declarations merge (methods become overloads) instead of
   * conflicting, as two `callbacks` properties typed with conditional types from two files would.
   */
  interface FastifyOpenapiCallbacksApi {
    /**
     * Resolves a callback's URL from the request being handled (and the reply, for `$statusCode` and `$response.*`),
     * and checks it against the address policy, so that a forbidden URL is refused while the client is still answered.
     * `{ ok: false, missing }` names the expression that had no value: there is nothing to send.
     */
    target<D extends CallbackDefinition>(definition: D, request: FastifyRequest, response?: ResponseContext): TargetResult
    /** Validates, signs and sends one attempt now. Throws (nothing sent) on a bad payload or target. */
    send<D extends OperationDefinition>(definition: D, target: TargetOf<D>, payload: NoInfer<PayloadOf<D>>): Promise<SendResult<ResponseOf<D>>>
    /** Validates now, then delivers at least once while the process lives, by the schedule. */
    enqueue<D extends OperationDefinition>(definition: D, target: TargetOf<D>, payload: NoInfer<PayloadOf<D>>): Promise<{ id: string }>
  }
}

/** `fastify.callbacks` */
export type CallbacksApi = FastifyOpenapiCallbacksApi

export interface Callbacks {
  api: CallbacksApi
  /** Remembers a route's callbacks under the schema object it keeps. */
  registerRoute: (schema: object, callbacks: readonly RouteCallback[]) => void
  /** Stops delivery: timers stop, attempts in flight get the grace period, what is pending is reported. */
  close: () => Promise<void>
}

export function createCallbacks (
  options: NormalisedDeliveryOptions,
  log: FastifyBaseLogger,
  sharedSchemas: () => unknown[]
): Callbacks {
  const policy = createAddressPolicy({ allowHttp: options.allowHttp, allow: options.allow, lookup: options.lookup })
  const agent = policy.createAgent({
    connect: { timeout: options.connectTimeout },
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    maxResponseSize: options.maxResponseSize
  })
  const targets = createTargets(policy)
  const validator = createPayloadValidator(sharedSchemas)
  const sender = createSender({ agent, secrets: options.secrets, attemptTimeout: options.attemptTimeout, validator, log, onAttempt: options.onAttempt })
  const dispatcher = createDispatcher({ ...options, sender, log })
  let closed = false

  function prepare (definition: OperationDefinition, target: unknown, payload: unknown) {
    if (closed) throw new DeliveryClosedError(describeDefinition(definition))
    return { target: checkTarget(definition, target, policy), body: validator.serialise(definition, payload) }
  }

  const api: CallbacksApi = {
    target: (definition, request, response) => targets.resolve(definition, request, response),
    async send (definition, target, payload) {
      const message = { messageId: newMessageId(), attempt: 1, definition, ...prepare(definition, target, payload) }
      const result = await sender.attempt(message)
      return { ...result, messageId: message.messageId } as SendResult<never>
    },
    async enqueue (definition, target, payload) {
      const message = { id: newMessageId(), definition, ...prepare(definition, target, payload), enqueuedAt: Date.now() }
      await dispatcher.enqueue(message)
      return { id: message.id }
    }
  }

  return {
    api,
    registerRoute: targets.register,
    async close () {
      closed = true
      dispatcher.stop()
      await sender.drain(options.closeGrace)
      const pending = await dispatcher.pending()
      if (pending.length > 0) {
        log.warn({ pending: pending.map(({ message }) => message.id) }, `fastify-openapi-callbacks: ${pending.length} queued message(s) not delivered at close; the onPending hook receives them`)
      }
      await callHook(options.onPending, pending, log, 'onPending')
      await agent.close()
    }
  }
}
