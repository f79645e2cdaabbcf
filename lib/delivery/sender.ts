import { createSecretKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { FastifyBaseLogger, FastifyError } from 'fastify'
import type { Agent, Dispatcher } from 'undici'
import type { OperationDefinition } from '../definition/definition.js'
import {
  AttemptAbortedError,
  AttemptTimeoutError,
  ContractViolationError,
  ReceiverGoneError,
  ReceiverStatusError,
  ReceiverUnreachableError
} from '../util/errors.js'
import { AttemptSignal } from './attempt-signal.js'
import { isJsonMediaType } from './payload-validator.js'
import type { PayloadValidator, ResponseCheck } from './payload-validator.js'
import { signatureHeader } from '../standard-webhooks/signing.js'
import { callHook } from './hooks.js'
import type { Hook } from './hooks.js'
import { logs } from './log-level.js'
import type { DeliveryMessage } from './message.js'
import type { SecretSource } from './secrets.js'
import type { Target } from './target.js'

/**
 * One attempt's result. `retryable`: 429, 5xx, no answer, a resolver without a usable answer, or the attempt's deadline
 * passed; `failed`: 3xx, another 4xx, or a refused address.
 */
export type AttemptResult<Body = unknown> = Delivered<Body> | NotDelivered

export interface Delivered<Body = unknown> {
  outcome: 'delivered'
  statusCode: number
  /** The answer, parsed and validated, when a JSON schema is declared for its status; undefined otherwise. */
  body: Body | undefined
}

export interface NotDelivered {
  outcome: 'retryable' | 'failed' | 'gone' | 'contract-violation'
  /** undefined when no answer came */
  statusCode: number | undefined
  error: FastifyError
  /** A 429 or 5xx answer's Retry-After, in milliseconds from when it came. */
  retryAfter?: number | undefined
}

export interface AttemptEvent {
  messageId: string
  attempt: number
  definition: OperationDefinition
  target: Target
  result: AttemptResult
}

export interface Sender {
  /** Sends the message's next attempt; never rejects: every failure is a classified result. */
  attempt (message: DeliveryMessage, definition: OperationDefinition): Promise<AttemptResult>
  /** Lets the attempts in flight finish within `graceMs`, then ends the others as retryable; resolves once all have. */
  drain (graceMs: number): Promise<void>
}

export interface SenderOptions {
  /** The address policy's Agent: it refuses forbidden addresses and bounds every phase. */
  agent: Agent
  /** The keys to sign each attempt with; none: the message is sent unsigned, with webhook-id and webhook-timestamp. */
  secrets: SecretSource
  /** The total deadline of an attempt, in milliseconds, from its start to its body read. Default 30 s. */
  attemptTimeout?: number
  validator: PayloadValidator
  log: FastifyBaseLogger
  onAttempt: Hook<AttemptEvent> | undefined
}

export const DEFAULT_ATTEMPT_TIMEOUT = 30_000

const POLICY_REFUSALS = new Set(['FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', 'FST_OPENAPI_CALLBACKS_INVALID_URL'])

/** Retry-After as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter (header: string | string[] | undefined): number | undefined {
  const value = [header].flat()[0]?.trim()
  if (value === undefined) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

// the parts of the URLs sent to, renewed when full: a queue sends to the same few receivers again and again
const ROUTES_KEPT = 1024

/** Where undici's Agent dispatches a checked URL, and the host the logs name (the full URL may carry a token). */
interface Route { origin: string, path: string, host: string }

export function createSender (options: SenderOptions): Sender {
  const { agent, secrets, attemptTimeout = DEFAULT_ATTEMPT_TIMEOUT, validator, log, onAttempt } = options
  const inFlight = new Map<Promise<AttemptResult>, AttemptSignal>()
  const routes = new Map<string, Route>()
  // HMAC key objects, made once per list of keys: the plugin's own list serves every attempt it signs
  const keyObjects = new WeakMap<readonly Buffer[], readonly KeyObject[]>()
  const responseChecks = new WeakMap<OperationDefinition, Map<number, ResponseCheck | undefined>>()

  function routeOf (url: string): Route {
    let route = routes.get(url)
    if (route === undefined) {
      const { origin, pathname, search, host } = new URL(url)
      route = { origin, path: pathname + search, host }
      if (routes.size >= ROUTES_KEPT) routes.clear()
      routes.set(url, route)
    }
    return route
  }

  function keyObjectsOf (keys: readonly Buffer[]): readonly KeyObject[] {
    let made = keyObjects.get(keys)
    if (made === undefined) {
      made = keys.map(key => createSecretKey(key))
      keyObjects.set(keys, made)
    }
    return made
  }

  function responseCheck (definition: OperationDefinition, statusCode: number): ResponseCheck | undefined {
    let byStatus = responseChecks.get(definition)
    if (byStatus === undefined) {
      byStatus = new Map()
      responseChecks.set(definition, byStatus)
    }
    if (!byStatus.has(statusCode)) byStatus.set(statusCode, validator.responseCheck(definition, statusCode))
    return byStatus.get(statusCode)
  }

  async function run (message: DeliveryMessage, definition: OperationDefinition, route: Route, signal: AttemptSignal): Promise<AttemptResult> {
    const { id, target, body, headers: sent, subscriber } = message
    // the plugin's own keys come at once: only a secretFor resolver is awaited
    let keys = secrets.keys({ subscriber, target })
    if (!Array.isArray(keys)) {
      try {
        keys = await keys
      } catch (error) {
        // the secret store is down or misconfigured: the receiver is not at fault, and the message waits for it
        return { outcome: 'retryable', statusCode: undefined, error: error as FastifyError }
      }
    }
    const timestamp = String(Math.floor(Date.now() / 1000))
    // a flat list of names and values: what undici keeps, so it copies nothing
    const headers: string[] = []
    for (const name of Object.keys(sent)) headers.push(name, sent[name]!)
    headers.push('webhook-id', id, 'webhook-timestamp', timestamp)
    if (keys.length > 0) headers.push('webhook-signature', signatureHeader(keyObjectsOf(keys), id, timestamp, body ?? ''))
    let response: Dispatcher.ResponseData
    try {
      // the Agent follows no redirect, refuses forbidden addresses and bounds every phase
      response = await agent.request({ origin: route.origin, path: route.path, method: target.method, headers, body, signal })
    } catch (error) {
      if (POLICY_REFUSALS.has((error as FastifyError).code)) return { outcome: 'failed', statusCode: undefined, error: error as FastifyError }
      return unreachable(route.host, error)
    }
    const { statusCode, headers: answer } = response
    const { host } = route
    if (statusCode >= 200 && statusCode < 300) {
      const check = responseCheck(definition, statusCode)
      const contentType = String(answer['content-type'] ?? '')
      if (check === undefined || !isJsonMediaType(contentType)) {
        await response.body.dump()
        if (check === undefined) return { outcome: 'delivered', statusCode, body: undefined }
        return violation(host, statusCode, `its content-type is "${contentType}", not JSON`)
      }
      let value: unknown
      try {
        value = JSON.parse(await response.body.text())
      } catch (error) {
        return violation(host, statusCode, `its body cannot be read as JSON (${String(error)})`)
      }
      const checked = check(value)
      if (!checked.ok) return violation(host, statusCode, `its body breaks the response schema: ${checked.faults.join('; ')}`)
      return { outcome: 'delivered', statusCode, body: checked.value }
    }
    await response.body.dump()
    if (statusCode === 410) return { outcome: 'gone', statusCode, error: new ReceiverGoneError(host) }
    if (statusCode === 429 || statusCode >= 500) {
      return {
        outcome: 'retryable',
        statusCode,
        error: new ReceiverStatusError(host, statusCode, 'a temporary failure; the message is retried by the schedule'),
        retryAfter: parseRetryAfter(answer['retry-after'])
      }
    }
    const reason = statusCode < 400
      ? 'a redirect, which is never followed: register the final URL'
      : 'the receiver refused the message; it is not retried'
    return { outcome: 'failed', statusCode, error: new ReceiverStatusError(host, statusCode, reason) }
  }

  // a delivered attempt is logged at debug: at info, a line per attempt would cost more than signing it
  function report (message: DeliveryMessage, definition: OperationDefinition, host: string, result: AttemptResult): void {
    const { id: messageId, target, attempt } = message
    const delivered = result.outcome === 'delivered'
    if (logs(log, delivered ? 'debug' : 'warn')) {
      const fields: Record<string, unknown> = { messageId, kind: definition.kind, name: target.name, host, attempt, statusCode: result.statusCode, outcome: result.outcome }
      if (delivered) {
        log.debug(fields, 'attempt delivered')
      } else {
        fields.err = result.error
        log.warn(fields, `attempt ${result.outcome}`)
      }
    }
    if (onAttempt !== undefined) callHook(onAttempt, { messageId, attempt, definition, target, result }, log, 'onAttempt')
  }

  return {
    attempt (message, definition) {
      const route = routeOf(message.target.url)
      // one promise per attempt, settled by whichever comes first: the answer, the deadline or the close
      let settle!: (result: AttemptResult) => void
      let fail!: (error: unknown) => void
      const promise = new Promise<AttemptResult>((resolve, reject) => { settle = resolve; fail = reject })
      let settled = false
      const finish = (result: AttemptResult): void => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        inFlight.delete(promise)
        report(message, definition, route.host, result)
        settle(result)
      }
      const signal = new AttemptSignal(reason => { finish(unreachable(route.host, reason)) })
      // one timer per attempt: the idle timeouts restart on every byte and every 1xx, this one never does
      const deadline = setTimeout(() => signal.abort(new AttemptTimeoutError(attemptTimeout)), attemptTimeout).unref()
      inFlight.set(promise, signal)
      run(message, definition, route, signal).then(finish, fail)
      return promise
    },
    async drain (graceMs) {
      // attempts that start during the grace period (a durable engine's jobs fetched just before close) get it too:
      // aborting one the receiver already has would send it twice
      const end = Date.now() + graceMs
      while (inFlight.size > 0 && Date.now() < end) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([Promise.all(inFlight.keys()), new Promise(resolve => { timer = setTimeout(resolve, end - Date.now()).unref() })])
        clearTimeout(timer)
      }
      for (const signal of inFlight.values()) signal.abort(new AttemptAbortedError(graceMs))
      await Promise.all(inFlight.keys())
    }
  }
}

/** No complete answer: retryable, and the cause says why (undici's error, the resolver's, the deadline or the close). */
function unreachable (host: string, error: unknown): NotDelivered {
  return { outcome: 'retryable', statusCode: undefined, error: new ReceiverUnreachableError(host, String(error), { cause: error }) }
}

function violation (host: string, statusCode: number, fault: string): NotDelivered {
  return { outcome: 'contract-violation', statusCode, error: new ContractViolationError(host, statusCode, fault) }
}
