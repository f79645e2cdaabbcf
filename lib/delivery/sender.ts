import type { FastifyBaseLogger, FastifyError } from 'fastify'
import { request } from 'undici'
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
import type { PayloadValidator } from './payload-validator.js'
import { signWebhook } from '../standard-webhooks/signing.js'
import { callHook } from './hooks.js'
import type { Hook } from './hooks.js'
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

export interface Attempt {
  /** The message's id, sent as webhook-id: the same on every attempt, the receiver's idempotency key. */
  messageId: string
  /** 1 for the first. */
  attempt: number
  definition: OperationDefinition
  target: Target
  /** The serialised, validated payload. */
  body: string | undefined
  /** Every header to send but the signature's: user-agent, content-type, the parameters and the app's own. */
  headers: Record<string, string>
  /** Who receives it, to find its secret. */
  subscriber?: string | undefined
}

export interface AttemptEvent {
  messageId: string
  attempt: number
  definition: OperationDefinition
  target: Target
  result: AttemptResult
}

export interface Sender {
  /** Sends one attempt; never rejects: every failure is a classified result. */
  attempt (attempt: Attempt): Promise<AttemptResult>
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

export function createSender (options: SenderOptions): Sender {
  const { agent, secrets, attemptTimeout = DEFAULT_ATTEMPT_TIMEOUT, validator, log, onAttempt } = options
  const inFlight = new Map<Promise<AttemptResult>, AttemptSignal>()

  async function run ({ messageId, definition, target, body, headers: sent, subscriber }: Attempt, host: string, signal: AttemptSignal): Promise<AttemptResult> {
    let keys: readonly Buffer[]
    try {
      keys = await secrets.keys({ subscriber, target })
    } catch (error) {
      // the secret store is down or misconfigured: the receiver is not at fault, and the message waits for it
      return { outcome: 'retryable', statusCode: undefined, error: error as FastifyError }
    }
    const timestamp = Math.floor(Date.now() / 1000)
    const headers: Record<string, string> = {
      ...sent,
      ...(keys.length === 0
        ? { 'webhook-id': messageId, 'webhook-timestamp': String(timestamp) }
        : signWebhook(keys, messageId, timestamp, body ?? ''))
    }
    let response: Dispatcher.ResponseData
    try {
      // undici's request() follows no redirect; the Agent refuses forbidden addresses and bounds every phase
      response = await request(target.url, { dispatcher: agent, method: target.method, headers, body, signal })
    } catch (error) {
      if (POLICY_REFUSALS.has((error as FastifyError).code)) return { outcome: 'failed', statusCode: undefined, error: error as FastifyError }
      return unreachable(host, error)
    }
    const { statusCode, headers: answer } = response
    if (statusCode >= 200 && statusCode < 300) {
      const check = validator.responseCheck(definition, statusCode)
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

  function report (attempt: Attempt, host: string, result: AttemptResult): void {
    const { messageId, definition, target } = attempt
    const fields = {
      messageId,
      kind: definition.kind,
      name: target.name,
      host,
      attempt: attempt.attempt,
      statusCode: result.statusCode,
      outcome: result.outcome,
      ...(result.outcome === 'delivered' ? {} : { err: result.error })
    }
    if (result.outcome === 'delivered') log.info(fields, 'attempt delivered')
    else log.warn(fields, `attempt ${result.outcome}`)
    callHook(onAttempt, { messageId, attempt: attempt.attempt, definition, target, result }, log, 'onAttempt')
  }

  return {
    attempt (attempt) {
      // logged by host only: the full URL may carry a token
      const host = new URL(attempt.target.url).host
      const signal = new AttemptSignal()
      // one timer per attempt: the idle timeouts restart on every byte and every 1xx, this one never does
      const deadline = setTimeout(() => signal.abort(new AttemptTimeoutError(attemptTimeout)), attemptTimeout).unref()
      const promise = Promise.race([run(attempt, host, signal), signal.whenAborted.then(reason => unreachable(host, reason))]).then(result => {
        clearTimeout(deadline)
        inFlight.delete(promise)
        report(attempt, host, result)
        return result
      })
      inFlight.set(promise, signal)
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
