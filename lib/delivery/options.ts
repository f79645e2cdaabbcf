import type { LookupFunction } from 'node:net'
import { DEFAULT_ATTEMPT_TIMEOUT } from './sender.js'
import type { AttemptEvent } from './sender.js'
import type { DeliveryEngine, PendingMessage } from './engines/engine.js'
import { createMemoryEngine } from './engines/memory-engine.js'
import type { Hook } from './hooks.js'
import type { OutcomeEvent } from './runner.js'
import { InvalidDeliveryOptionsError } from '../util/errors.js'
import { VERSION } from '../util/version.js'
import { checkHeaders, isFieldValue } from './parameters.js'
import type { IsolationSettings, ReceiverUnhealthyEvent } from './receivers.js'
import { arrayOf, boolean, custom, duration, fn, group, implementing, number, readOptions } from '../util/options.js'
import type { Fail, Normalised, OptionRule } from '../util/options.js'
import type { SecretResolver } from './secrets.js'
import { parseSecret } from '../standard-webhooks/signing.js'

/** The plugin's `delivery` option. Durations are in milliseconds. */
export interface DeliveryOptions {
  /** `whsec_` secret(s) to sign with (Standard Webhooks v1); several while rotating keys. Default: unsigned. */
  secret?: string | readonly string[]
  /** A subscriber's own secret(s), asked at each attempt (so a queue holds only the subscriber's id); undefined: `secret`. */
  secretFor?: SecretResolver
  /** Headers sent with every callback and webhook. */
  headers?: Record<string, string | number | boolean>
  /** Default `fastify-openapi-callbacks/<version>`. */
  userAgent?: string
  /** Accept plain http URLs. Default false. */
  allowHttp?: boolean
  /** Trusted hosts, IPs and CIDRs, reachable even when private. Default none. */
  allow?: readonly string[]
  /** A dns.lookup-compatible resolver. Default node:dns. */
  lookup?: LookupFunction
  /** Delays of the attempts of a queued message, each after the previous failed. Default 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
  schedule?: readonly number[]
  /** Each delay is spread by up to ± this fraction. Default 0.1. */
  jitter?: number
  /** Retry-After is honoured up to this wait. Default 1 hour. */
  maxRetryAfter?: number
  /** Default 10 s. */
  connectTimeout?: number
  /** Time to the answer's headers. Default 15 s. */
  headersTimeout?: number
  /** Time between two chunks of the answer's body. Default 15 s. */
  bodyTimeout?: number
  /** The total deadline of one attempt, from connecting to the end of the answer's body; the timeouts above are idle timeouts. Default 30 s. */
  attemptTimeout?: number
  /** The longest answer read, in bytes. Default 64 KiB. */
  maxResponseSize?: number
  /** Queued attempts in flight at most, in this process. Default 64. */
  concurrency?: number
  /** Each receiver's share of them, its circuit breaker, and when a receiver that stays down is reported. */
  isolation?: IsolationOptions
  /** At close, how long attempts in flight may still take before they are aborted. Default 5 s. */
  closeGrace?: number
  /** A queued message whose key this process does not know (a rolling deploy) is reported after this wait. Default 10 min. */
  unknownKeyGrace?: number
  /** Where queued messages wait and who runs them. Default: createMemoryEngine(), in this process, lost on restart. */
  engine?: DeliveryEngine
  /** Whether this process delivers queued messages; false: it only enqueues, for workers elsewhere. Default true. */
  deliver?: boolean
  /** After every attempt, of send() and of queued messages. */
  onAttempt?: Hook<AttemptEvent>
  /** When a queued message is finished: delivered, failed, gone, contract-violation or exhausted. */
  onOutcome?: Hook<OutcomeEvent>
  /** When a receiver's circuit breaker has stayed open for `isolation.unhealthyAfter`: disable the subscription, or tell its owner. */
  onReceiverUnhealthy?: Hook<ReceiverUnhealthyEvent>
  /** At close, with the queued messages not finished (possibly none): persist them, or enqueue them again after a restart. */
  onPending?: Hook<PendingMessage[]>
}

/** A receiver is a target's origin (scheme, host, port). Durations are in milliseconds. */
export interface IsolationOptions {
  /** Queued attempts in flight at most to one receiver, in this process. Default: an eighth of `concurrency`, at least 1 (8 by default). */
  perReceiver?: number
  /** Consecutive attempts that find a receiver down (no answer, a timeout, 429, 5xx) and open its breaker. Default 5. */
  failureThreshold?: number
  /** How long an open breaker holds the receiver's messages before one probe goes out. Default 30 s; doubled after each failed probe. */
  coolDown?: number
  /** The longest cool-down. Default 10 min. */
  maxCoolDown?: number
  /** A breaker open this long (checked at each failed probe) calls `onReceiverUnhealthy`. Default 1 hour. */
  unhealthyAfter?: number
}

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
/** Standard Webhooks' and Svix's schedule: 8 attempts over about 27.6 hours. */
export const DEFAULT_SCHEDULE: readonly number[] = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]

const engine = implementing<DeliveryEngine>(['open', 'add', 'work', 'close', 'pending'], ', as createMemoryEngine() and the BullMQ engine do')

function fail (fault: string): never {
  throw new InvalidDeliveryOptionsError(fault)
}

/** The `delivery` option, checked once at registration, with its own error code. */
const DELIVERY_FIELDS = group({
  // decoded at once: a bad secret fails registration with FST_OPENAPI_CALLBACKS_INVALID_SECRET, never quoted
  secret: { read: (value: unknown): Buffer[] => value === undefined ? [] : [value as string].flat().map(parseSecret) },
  secretFor: fn<SecretResolver>(),
  headers: { read: (value: unknown, path: string, fail: Fail) => checkHeaders(value, () => `the \`${path}\` option`, fail).headers },
  userAgent: custom<string>('a non-empty header value: visible ASCII characters, with spaces or tabs only between them', value => typeof value === 'string' && value !== '' && isFieldValue(value), `fastify-openapi-callbacks/${VERSION}`),
  allowHttp: boolean(false),
  allow: arrayOf(custom<string>('a host, an IP address or a CIDR range', value => typeof value === 'string'), [], { expected: 'an array of hosts, IP addresses and CIDR ranges' }),
  lookup: fn<LookupFunction>(),
  schedule: arrayOf(duration(0, { min: 0, integer: false }), DEFAULT_SCHEDULE, {
    minLength: 1,
    expected: 'a non-empty array of delays in milliseconds, the first before the first attempt'
  }),
  jitter: number(0.1, { min: 0, max: 1 }),
  maxRetryAfter: duration(HOUR, { min: 0, integer: false }),
  connectTimeout: duration(10 * SECOND),
  headersTimeout: duration(15 * SECOND),
  bodyTimeout: duration(15 * SECOND),
  attemptTimeout: duration(DEFAULT_ATTEMPT_TIMEOUT),
  maxResponseSize: number(64 * 1024, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  concurrency: number(64, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  isolation: group({
    // an eighth of concurrency, once that is known
    perReceiver: number(undefined, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
    failureThreshold: number(5, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
    coolDown: duration(30 * SECOND),
    maxCoolDown: duration(10 * MINUTE),
    unhealthyAfter: duration(HOUR, { min: 0, integer: false })
  }),
  closeGrace: duration(5 * SECOND, { min: 0, integer: false }),
  unknownKeyGrace: duration(10 * MINUTE, { min: 0, integer: false }),
  // one memory engine per registration
  engine: { read: (value: unknown, path: string, fail: Fail): DeliveryEngine => engine.read(value, path, fail) ?? createMemoryEngine() },
  deliver: boolean(true),
  onAttempt: fn<Hook<AttemptEvent>>(),
  onOutcome: fn<Hook<OutcomeEvent>>(),
  onReceiverUnhealthy: fn<Hook<ReceiverUnhealthyEvent>>(),
  onPending: fn<Hook<PendingMessage[]>>()
}, { fail })

export type NormalisedDeliveryOptions = Normalised<typeof DELIVERY_FIELDS.fields> & { isolation: IsolationSettings }

/** The `delivery` option's rule: its fields, then what depends on several of them (a receiver's share, the cool-downs). */
export const DELIVERY_OPTIONS: OptionRule<NormalisedDeliveryOptions> & { fields: typeof DELIVERY_FIELDS.fields } = {
  fields: DELIVERY_FIELDS.fields,
  read (value, path, ownFail) {
    const normalised = DELIVERY_FIELDS.read(value, path, ownFail)
    const { isolation, concurrency, maxRetryAfter, attemptTimeout } = normalised
    const where = path === '' ? '' : `${path}.`
    if (isolation.maxCoolDown < isolation.coolDown) fail(`${where}isolation.maxCoolDown must be at least isolation.coolDown (${isolation.coolDown}), not ${isolation.maxCoolDown}`)
    const perReceiver = isolation.perReceiver ?? Math.max(1, Math.ceil(concurrency / 8))
    return { ...normalised, isolation: { ...isolation, perReceiver, maxRetryAfter, attemptTimeout } }
  }
}

/** Checks the `delivery` option once, at registration, and fills in the defaults. */
export function normaliseDeliveryOptions (options?: DeliveryOptions): NormalisedDeliveryOptions {
  return readOptions(options, DELIVERY_OPTIONS, fail)
}
