import { createSecretKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyBaseLogger, FastifyError } from 'fastify'
import type { Agent, Dispatcher } from 'undici'
import type { OperationDefinition } from '../definition/definition.js'
import {
  AttemptAbortedError,
  AttemptTimeoutError,
  ContractViolationError,
  ReceiverGoneError,
  ReceiverStatusError,
  ReceiverUnreachableError,
  RequestRefusedError
} from '../util/errors.js'
import { answerOutcome } from '../outcome-policy/outcome-policy.js'
import type { AttemptOutcome } from '../outcome-policy/outcome-policy.js'
import { AttemptHandler } from './attempt-handler.js'
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
 * passed; `failed`: 3xx, another 4xx, a refused address, or a request that cannot be made.
 */
export type AttemptResult<Body = unknown> = Delivered<Body> | NotDelivered

export interface Delivered<Body = unknown> {
  outcome: 'delivered'
  statusCode: number
  /** The answer, parsed and validated, when a JSON schema is declared for its status; undefined otherwise. */
  body: Body | undefined
}

export interface NotDelivered {
  outcome: Exclude<AttemptOutcome, 'delivered'>
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
  /**
   * The app's own headers (user-agent, `delivery.headers`), lower-case: sent on every attempt, after the message's own
   * unless it has one of the same name. They are never stored in a message, so a queue holds no API key put there.
   */
  headers: Record<string, string>
  /** The total deadline of an attempt, in milliseconds, from its start to its body read. Default 30 s. */
  attemptTimeout?: number
  validator: PayloadValidator
  log: FastifyBaseLogger
  onAttempt: Hook<AttemptEvent> | undefined
}

export const DEFAULT_ATTEMPT_TIMEOUT = 30_000

const POLICY_REFUSALS = new Set(['FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS', 'FST_OPENAPI_CALLBACKS_INVALID_URL'])
// what undici throws for a request it will not make (a header value, name or framing it refuses): made again, it would
// be refused again
const CLIENT_REFUSALS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED'])

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
  // the app's headers as a flat list of names and values, made once
  const appHeaders = Object.entries(options.headers).flat()
  // the attempts in flight, newest first, linked through themselves: kept in a Set, most attempts outlived a young
  // generation collection (measured with --trace-gc), and GC cost several times the bare loop's per delivery
  let newest: Attempt | undefined
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

  /** One attempt: signed and dispatched at once (a secretFor resolver is awaited first), ended by its answer, its deadline or the close. */
  class Attempt extends AttemptHandler {
    readonly #message: DeliveryMessage
    readonly #definition: OperationDefinition
    readonly #route: Route
    /** Resolved once the attempt has ended; never rejects. */
    readonly done: Promise<AttemptResult>
    #settle!: (result: AttemptResult) => void
    // one timer per attempt: the idle timeouts restart on every byte and every 1xx, this one never does
    readonly #deadline: NodeJS.Timeout
    #older: Attempt | undefined
    #newer: Attempt | undefined
    #running = true
    // while undici is handed the request: what it refuses then, it refuses at once, before asking for a connection
    #dispatching = false
    #check: ResponseCheck | undefined

    /** The next attempt in flight, started before this one. */
    get older (): Attempt | undefined {
      return this.#older
    }

    constructor (message: DeliveryMessage, definition: OperationDefinition) {
      super()
      this.done = new Promise(resolve => { this.#settle = resolve })
      this.#message = message
      this.#definition = definition
      this.#route = routeOf(message.target.url)
      this.#older = newest
      if (newest !== undefined) newest.#newer = this
      newest = this
      this.#deadline = setTimeout(expire, attemptTimeout, this).unref()
      const keys = secrets.keys({ subscriber: message.subscriber, target: message.target })
      // the plugin's own keys come at once: only a secretFor resolver is awaited
      if (keys instanceof Promise) {
        // the secret store is down or misconfigured: the receiver is not at fault, and the message waits for it (unless
        // the deadline or the close has ended the attempt meanwhile)
        const unavailable = (error: FastifyError): void => { if (this.#running) this.#finish({ outcome: 'retryable', statusCode: undefined, error }) }
        // keys that come once the attempt has ended (its deadline, the close) are not used: no connection is asked for
        keys.then(resolved => { if (this.#running) this.#dispatch(resolved) }, unavailable)
      } else {
        this.#dispatch(keys)
      }
    }

    #dispatch (keys: readonly Buffer[]): void {
      const { id, target, body, headers: own } = this.#message
      // a flat list of names and values: what undici keeps, so it copies nothing
      const headers: string[] = []
      for (let index = 0; index < appHeaders.length; index += 2) {
        if (!Object.hasOwn(own, appHeaders[index]!)) headers.push(appHeaders[index]!, appHeaders[index + 1]!)
      }
      for (const name of Object.keys(own)) headers.push(name, own[name]!)
      const timestamp = String(Math.floor(Date.now() / 1000))
      headers.push('webhook-id', id, 'webhook-timestamp', timestamp)
      if (keys.length > 0) {
        try {
          headers.push('webhook-signature', signatureHeader(keyObjectsOf(keys), id, timestamp, body ?? ''))
        } catch (error) {
          // a stored message whose id the signature forbids (it holds a "."): its request can never be made
          this.#finish({ outcome: 'failed', statusCode: undefined, error: new RequestRefusedError(this.#route.host, String(error), { cause: error }) })
          return
        }
      }
      this.#dispatching = true
      try {
        // the Agent follows no redirect, refuses forbidden addresses and bounds every phase
        agent.dispatch({ origin: this.#route.origin, path: this.#route.path, method: target.method as Dispatcher.HttpMethod, headers, body }, this)
      } finally {
        this.#dispatching = false
      }
    }

    protected keepsBody (statusCode: number, headers: IncomingHttpHeaders): boolean {
      if (statusCode >= 300) return false
      this.#check = responseCheck(this.#definition, statusCode)
      return this.#check !== undefined && isJsonMediaType(contentTypeOf(headers))
    }

    protected answered (statusCode: number, headers: IncomingHttpHeaders, body: Buffer | undefined, error: Error | undefined): void {
      this.#finish(classify(this.#route.host, statusCode, headers, this.#check, body, error))
    }

    protected unanswered (error: Error): void {
      const { code } = error as FastifyError
      if (POLICY_REFUSALS.has(code)) this.#finish({ outcome: 'failed', statusCode: undefined, error: error as FastifyError })
      else if (this.#dispatching && CLIENT_REFUSALS.has(code)) this.#finish({ outcome: 'failed', statusCode: undefined, error: new RequestRefusedError(this.#route.host, `the HTTP client refused it (${String(error)})`, { cause: error }) })
      else this.#finish(unreachable(this.#route.host, error))
    }

    /** Ends the attempt, once: it leaves the list in flight, and its result is settled before it is reported. */
    #finish (result: AttemptResult): void {
      clearTimeout(this.#deadline)
      this.#running = false
      if (this.#newer === undefined) newest = this.#older
      else this.#newer.#older = this.#older
      if (this.#older !== undefined) this.#older.#newer = this.#newer
      this.#older = this.#newer = undefined
      this.#settle(result)
      report(this.#message, this.#definition, this.#route.host, result)
    }
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

  const expire = (attempt: Attempt): void => { attempt.abort(new AttemptTimeoutError(attemptTimeout)) }
  const inFlight = (): Attempt[] => {
    const attempts: Attempt[] = []
    for (let attempt = newest; attempt !== undefined; attempt = attempt.older) attempts.push(attempt)
    return attempts
  }
  const ended = (): Promise<AttemptResult[]> => Promise.all(inFlight().map(attempt => attempt.done))

  // set once the close's grace period is over: an attempt that would start after it (a durable engine's job fetched
  // just before the close, whose receiver the aborts just freed) is cut short at once, as those in flight were
  let closing: Error | undefined

  return {
    attempt (message, definition) {
      if (closing !== undefined) return Promise.resolve(unreachable(routeOf(message.target.url).host, closing))
      return new Attempt(message, definition).done
    },
    async drain (graceMs) {
      // attempts that start during the grace period (a durable engine's jobs fetched just before close) get it too:
      // aborting one the receiver already has would send it twice
      const end = performance.now() + graceMs
      while (inFlight().length > 0 && performance.now() < end) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([ended(), new Promise(resolve => { timer = setTimeout(resolve, end - performance.now()).unref() })])
        clearTimeout(timer)
      }
      closing = new AttemptAbortedError(graceMs)
      for (const attempt of inFlight()) attempt.abort(closing)
      await ended()
    }
  }
}

const contentTypeOf = (headers: IncomingHttpHeaders): string => String(headers['content-type'] ?? '')
// undici's body.text() decoded so: UTF-8, a leading byte-order mark dropped
const utf8 = new TextDecoder()

/** A whole answer's result, by its status; a 2xx with a response schema is read (when it came in full) and validated. */
function classify (host: string, statusCode: number, headers: IncomingHttpHeaders, check: ResponseCheck | undefined, body: Buffer | undefined, error: Error | undefined): AttemptResult {
  const outcome = answerOutcome(statusCode)
  if (outcome === 'delivered') {
    if (check === undefined) return { outcome: 'delivered', statusCode, body: undefined }
    const contentType = contentTypeOf(headers)
    if (!isJsonMediaType(contentType)) return violation(host, statusCode, `its content-type is "${contentType}", not JSON`)
    let value: unknown
    try {
      // a body that broke off (too large, too slow) cannot be read
      if (body === undefined) throw error
      value = JSON.parse(utf8.decode(body))
    } catch (fault) {
      return violation(host, statusCode, `its body cannot be read as JSON (${String(fault)})`)
    }
    const checked = check(value)
    if (!checked.ok) return violation(host, statusCode, `its body breaks the response schema: ${checked.faults.join('; ')}`)
    return { outcome: 'delivered', statusCode, body: checked.value }
  }
  if (outcome === 'gone') return { outcome, statusCode, error: new ReceiverGoneError(host) }
  if (outcome === 'retryable') {
    return {
      outcome: 'retryable',
      statusCode,
      error: new ReceiverStatusError(host, statusCode, 'a temporary failure; the message is retried by the schedule'),
      retryAfter: parseRetryAfter(headers['retry-after'])
    }
  }
  const reason = statusCode < 400
    ? 'a redirect, which is never followed: register the final URL'
    : 'the receiver refused the message; it is not retried'
  return { outcome: 'failed', statusCode, error: new ReceiverStatusError(host, statusCode, reason) }
}

/** No complete answer: retryable, and the cause says why (undici's error, the resolver's, the deadline or the close). */
function unreachable (host: string, error: unknown): NotDelivered {
  return { outcome: 'retryable', statusCode: undefined, error: new ReceiverUnreachableError(host, String(error), { cause: error }) }
}

function violation (host: string, statusCode: number, fault: string): NotDelivered {
  return { outcome: 'contract-violation', statusCode, error: new ContractViolationError(host, statusCode, fault) }
}
