import type { FastifyBaseLogger, FastifyError, FastifyOpenapiCallbacksApi, FastifyRequest } from 'fastify'
import { createAddressPolicy } from '../address-policy/address-policy.js'
import { describeDefinition } from '../definition/definition.js'
import type { CallbackDefinition, OperationDefinition } from '../definition/definition.js'
import { DeliveryClosedError, InvalidTargetError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import { connectionPool } from './connection-pool.js'
import { flatAscii } from './flat-text.js'
import { callHook } from './hooks.js'
import { idempotentMessageId, MESSAGE_VERSION, newMessageId } from './message.js'
import type { DeliveryMessage } from './message.js'
import type { NormalisedDeliveryOptions } from './options.js'
import { prepareParameters, withQuery } from './parameters.js'
import { bodyMediaType, createPayloadValidator } from './payload-validator.js'
import { createDeliveryRegistry } from './registry.js'
import type { DeclaredWebhooks, DeliveryRegistry } from './registry.js'
import { firstDelay } from '../outcome-policy/outcome-policy.js'
import type { SchemaStatic } from './static.js'
import { createRunner } from './runner.js'
import { createSecretSource } from './secrets.js'
import { createSender } from './sender.js'
import type { AttemptResult } from './sender.js'
import { checkTarget, createTargetResolver } from './target.js'
import type { CallbackTarget, ResponseContext, Target, TargetResult, WebhookTarget } from './target.js'

// what the app gives: a zod schema's input (parsed before it is sent); what it gets back: a zod schema's output
type StaticOf<T> = SchemaStatic<T, 'input'>
type SuccessKey<R> = { [K in keyof R]: `${K & (string | number)}` extends `2${string}` | 'default' ? K : never }[keyof R]

/** The payload a definition's body schema describes. */
export type PayloadOf<D> = D extends { schema: { body: infer B } } ? StaticOf<B> : unknown
/** A receiver's 2xx answer, as the definition's `2xx`, `2XX` and `default` response schemas describe it. */
export type ResponseOf<D> = D extends { schema: { response: infer R } }
  ? [SuccessKey<R>] extends [never] ? unknown : SchemaStatic<R[SuccessKey<R>], 'output'>
  : unknown
/** A callback goes to the target resolved for it; a webhook to the URL a subscriber registered. */
export type TargetOf<D> = D extends { kind: 'webhook' } ? string | WebhookTarget : CallbackTarget

type HeaderValue = string | number | boolean
type QueryValue = HeaderValue | readonly HeaderValue[]
// a parameter option is required when its schema has a required property, and typed from it
type ParameterOption<D, Key extends 'headers' | 'querystring', Option extends string, Other> =
  D extends { schema: { [K in Key]: infer S } }
    ? unknown extends StaticOf<S>
      ? { [K in Option]?: Record<string, Other> }
      : {} extends StaticOf<S>
          ? { [K in Option]?: StaticOf<S> & Record<string, Other> }
          : { [K in Option]: StaticOf<S> & Record<string, Other> }
    : { [K in Option]?: Record<string, Other> }

/** The options of send(), enqueue() and fanOut(): the declared header and query parameters, other headers, the subscriber. */
export type SendOptionsOf<D> = ParameterOption<D, 'headers', 'headers', HeaderValue> & ParameterOption<D, 'querystring', 'query', QueryValue> & {
  /** Who receives it: handed to `secretFor` at each attempt, to sign with that subscriber's secret. */
  subscriber?: string
  /**
   * The caller's key for this message (e.g. its event's id): the same key, for the same callback or webhook, gives the
   * same message id, so an enqueue retried after an error (FST_OPENAPI_CALLBACKS_STORE_TIMEOUT) keeps one message.
   */
  idempotencyKey?: string
}
/** No options, unless a declared parameter is required. */
type OptionsArgument<D> = {} extends SendOptionsOf<D> ? [options?: SendOptionsOf<D>] : [options: SendOptionsOf<D>]

/** A subscriber of fanOut(): its target, with its own options. */
export type Subscriber<D> = ({} extends SendOptionsOf<D> ? TargetOf<D> : never) | ({ target: TargetOf<D> } & SendOptionsOf<D>)
/** Each subscriber's message id, or what was wrong with that subscriber alone. */
export type FanOutResult = { ok: true, id: string } | { ok: false, error: FastifyError }

const NO_HEADERS: Record<string, string> = Object.freeze({})
// undici's close waits for every request it holds, and one still connecting waits out the connect timeout (a resolver
// that never answers): past this bound, the Agent's connections are dropped instead
const AGENT_CLOSE_TIMEOUT = 1000

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
    /** Validates, signs and sends one attempt now. Throws (nothing sent) on a bad payload, target or parameter. */
    send<D extends OperationDefinition>(definition: D, target: TargetOf<D>, payload: NoInfer<PayloadOf<D>>, ...options: OptionsArgument<D>): Promise<SendResult<ResponseOf<D>>>
    /** Validates now, then hands the message to the engine, which delivers it at least once by the schedule. */
    enqueue<D extends OperationDefinition>(definition: D, target: TargetOf<D>, payload: NoInfer<PayloadOf<D>>, ...options: OptionsArgument<D>): Promise<{ id: string }>
    /**
     * One event to many subscribers: the payload is validated once, then each subscriber gets its own message (its id,
     * its secret, its outcome). A subscriber whose target or parameters are wrong fails alone, in its result.
     */
    fanOut<D extends OperationDefinition>(definition: D, subscribers: ReadonlyArray<Subscriber<D>>, payload: NoInfer<PayloadOf<D>>): Promise<FanOutResult[]>
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
    // as many connections to a receiver as attempts in flight: without a bound, undici opens a new one whenever all
    // are still finishing their last answer, and ends up with twice as many
    connections: options.concurrency,
    connect: { timeout: options.connectTimeout },
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
    maxResponseSize: options.maxResponseSize,
    factory: connectionPool
  })
  const registry = createDeliveryRegistry(declaredWebhooks)
  const resolveTarget = createTargetResolver(policy, registry)
  const validator = createPayloadValidator(sharedSchemas)
  const secrets = createSecretSource(options.secret, options.secretFor, options.headersTimeout)
  const sender = createSender({ agent, secrets, headers: { 'user-agent': options.userAgent, ...options.headers }, attemptTimeout: options.attemptTimeout, validator, log, onAttempt: options.onAttempt })
  const { engine } = options
  let closed = false
  const runner = createRunner({ ...options, registry, sender, policy: options, log })
  let opening: Promise<void> | undefined
  const open = (): Promise<void> => (opening ??= engine.open(runner))

  // the content-type header of each definition's body, found once
  const contentTypes = new WeakMap<OperationDefinition, Record<string, string>>()
  function contentTypeOf (definition: OperationDefinition): Record<string, string> {
    let header = contentTypes.get(definition)
    if (header === undefined) {
      header = { 'content-type': bodyMediaType(definition) }
      contentTypes.set(definition, header)
    }
    return header
  }

  function assertOpen (definition: OperationDefinition): void {
    if (closed) throw new DeliveryClosedError(describeDefinition(definition))
  }

  /**
   * A message for one receiver: its target and parameters checked (first, as the receiver is the likelier fault),
   * then its body, and its own headers; the app's (user-agent, `delivery.headers`) are added at each attempt.
   */
  function messageFor (definition: OperationDefinition, target: unknown, sendOptions: unknown, body: () => string | undefined): DeliveryMessage {
    const checked = checkTarget(definition, target, policy, registry)
    const parameters = prepareParameters(definition, sendOptions, validator.parameterChecks(definition))
    const serialised = body()
    // the content-type comes last, in the literal: a property added after a spread costs V8 a slow copy of the object
    const headers: Record<string, string> = { ...parameters.headers, ...(serialised === undefined ? NO_HEADERS : contentTypeOf(definition)) }
    const { kind, key, name, method, url } = checked
    const message: DeliveryMessage = {
      version: MESSAGE_VERSION,
      id: parameters.idempotencyKey === undefined ? flatAscii(newMessageId()) : idempotentMessageId(key, parameters.idempotencyKey),
      key,
      target: parameters.query === '' ? checked : { kind, key, name, method, url: withQuery(url, parameters.query) } as Target,
      body: serialised,
      headers,
      attempt: 1,
      enqueuedAt: Date.now()
    }
    if (parameters.subscriber !== undefined) message.subscriber = parameters.subscriber
    return message
  }

  let opened = false
  async function add (message: DeliveryMessage): Promise<{ id: string }> {
    // once open, a message goes to the engine without waiting a turn for the settled opening
    if (!opened) {
      await open()
      opened = true
    }
    try {
      await engine.add(message, firstDelay(options, Math.random))
    } catch (error) {
      // the message may still be kept (a store that answered too late): its id lets the caller check, or retry with its idempotencyKey
      throw Object.assign(error as Error, { messageId: message.id })
    }
    return { id: message.id }
  }

  const api: CallbacksApi = {
    target: (definition, request, response) => resolveTarget(definition, request, response),
    async send (definition, target, payload, ...[sendOptions]) {
      assertOpen(definition)
      const message = messageFor(definition, target, sendOptions, () => validator.serialise(definition, payload))
      const result = await sender.attempt(message, definition) as SendResult<never>
      // the result is this send's own object: adding to it is cheaper than a spread followed by a property
      result.messageId = message.id
      return result
    },
    async enqueue (definition, target, payload, ...[sendOptions]) {
      assertOpen(definition)
      return await add(messageFor(definition, target, sendOptions, () => validator.serialise(definition, payload)))
    },
    async fanOut (definition, subscribers, payload) {
      assertOpen(definition)
      const body = validator.serialise(definition, payload)
      if (!Array.isArray(subscribers)) throw new InvalidTargetError(describeDefinition(definition), 'fanOut() takes an array of subscribers: targets, or { target, headers?, query?, subscriber?, idempotencyKey? }')
      return await Promise.all(subscribers.map(async (subscriber: unknown): Promise<FanOutResult> => {
        try {
          const { target, ...sendOptions } = isObject(subscriber) && Object.hasOwn(subscriber, 'target') ? subscriber : { target: subscriber }
          return { ok: true, ...await add(messageFor(definition, target, sendOptions, () => body)) }
        } catch (error) {
          return { ok: false, error: error as FastifyError }
        }
      }))
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
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<false>(resolve => { timer = setTimeout(resolve, AGENT_CLOSE_TIMEOUT, false) })
      const agentClosed = await Promise.race([agent.close().then(() => true), bound])
      clearTimeout(timer)
      if (!agentClosed) await agent.destroy()
    }
  }
}
