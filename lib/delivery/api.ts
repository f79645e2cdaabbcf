import type { FastifyBaseLogger, FastifyOpenapiCallbacksApi, FastifyRequest } from 'fastify'
import { createAddressPolicy } from '../address-policy/address-policy.js'
import { describeDefinition } from '../definition/definition.js'
import type { CallbackDefinition, OperationDefinition } from '../definition/definition.js'
import { DeliveryClosedError } from '../util/errors.js'
import { callHook } from './hooks.js'
import { newMessageId } from './message.js'
import type { DeliveryMessage } from './message.js'
import type { NormalisedDeliveryOptions } from './options.js'
import { createPayloadValidator } from './payload-validator.js'
import { createDeliveryRegistry } from './registry.js'
import type { DeclaredWebhooks, DeliveryRegistry } from './registry.js'
import { firstDelay } from './retry-policy.js'
import { createRunner } from './runner.js'
import { createSender } from './sender.js'
import type { AttemptResult } from './sender.js'
import { checkTarget, createTargetResolver } from './target.js'
import type { CallbackTarget, ResponseContext, TargetResult, WebhookTarget } from './target.js'

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
  /** Every sendable callback and webhook, by key: the document side fills it as routes and webhooks are declared. */
  registry: DeliveryRegistry
  /** At ready(): opens the engine and, when this process delivers, starts it. */
  ready: () => Promise<void>
  /** Stops delivery: fetching stops, attempts in flight get the grace period, what is pending is reported. */
  close: () => Promise<void>
}

export function createCallbacks (
  options: NormalisedDeliveryOptions,
  log: FastifyBaseLogger,
  sharedSchemas: () => unknown[],
  declaredWebhooks: DeclaredWebhooks
): Callbacks {
  const policy = createAddressPolicy({ allowHttp: options.allowHttp, allow: options.allow, lookup: options.lookup })
  const agent = policy.createAgent({
    connect: { timeout: options.connectTimeout },
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    maxResponseSize: options.maxResponseSize
  })
  const registry = createDeliveryRegistry(declaredWebhooks)
  const resolveTarget = createTargetResolver(policy, registry)
  const validator = createPayloadValidator(sharedSchemas)
  const sender = createSender({ agent, secrets: options.secrets, validator, log, onAttempt: options.onAttempt })
  const { engine } = options
  let closed = false
  const runner = createRunner({ ...options, registry, sender, policy: options, log, closing: () => closed })
  let opening: Promise<void> | undefined
  const open = (): Promise<void> => (opening ??= engine.open(runner))

  function prepare (definition: OperationDefinition, target: unknown, payload: unknown) {
    if (closed) throw new DeliveryClosedError(describeDefinition(definition))
    return { target: checkTarget(definition, target, policy, registry), body: validator.serialise(definition, payload) }
  }

  const api: CallbacksApi = {
    target: (definition, request, response) => resolveTarget(definition, request, response),
    async send (definition, target, payload) {
      const message = { messageId: newMessageId(), attempt: 1, definition, ...prepare(definition, target, payload) }
      const result = await sender.attempt(message)
      return { ...result, messageId: message.messageId } as SendResult<never>
    },
    async enqueue (definition, target, payload) {
      const { target: checked, body } = prepare(definition, target, payload)
      const message: DeliveryMessage = { id: newMessageId(), key: checked.key, target: checked, body, headers: {}, attempt: 1, enqueuedAt: Date.now() }
      await open()
      await engine.add(message, firstDelay(options, Math.random))
      return { id: message.id }
    }
  }

  return {
    api,
    registry,
    async ready () {
      await open()
      if (options.deliver) await engine.work()
    },
    async close () {
      closed = true
      const stopped = engine.close()
      await sender.drain(options.closeGrace)
      await stopped
      const pending = await engine.pending()
      if (pending.length > 0) {
        log.warn({ pending: pending.map(({ message }) => message.id) }, `${pending.length} queued message(s) not delivered at close; the onPending hook receives them`)
      }
      await callHook(options.onPending, pending, log, 'onPending')
      await agent.close()
    }
  }
}
