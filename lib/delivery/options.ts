import type { LookupFunction } from 'node:net'
import { inspect } from 'node:util'
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

export interface NormalisedDeliveryOptions {
  secrets: Buffer[]
  secretFor: SecretResolver | undefined
  headers: Record<string, string>
  userAgent: string
  allowHttp: boolean
  allow: string[]
  lookup: LookupFunction | undefined
  schedule: number[]
  jitter: number
  maxRetryAfter: number
  connectTimeout: number
  headersTimeout: number
  bodyTimeout: number
  attemptTimeout: number
  maxResponseSize: number
  concurrency: number
  closeGrace: number
  unknownKeyGrace: number
  engine: DeliveryEngine
  deliver: boolean
  onAttempt: Hook<AttemptEvent> | undefined
  onOutcome: Hook<OutcomeEvent> | undefined
  onReceiverUnhealthy: Hook<ReceiverUnhealthyEvent> | undefined
  onPending: Hook<PendingMessage[]> | undefined
  isolation: IsolationSettings
}

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
/** Standard Webhooks' and Svix's schedule: 8 attempts over about 27.6 hours. */
export const DEFAULT_SCHEDULE: readonly number[] = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]

const NUMBERS = {
  jitter: { fallback: 0.1, min: 0, max: 1, integer: false },
  maxRetryAfter: { fallback: HOUR, min: 0, max: Infinity, integer: false },
  connectTimeout: { fallback: 10 * SECOND, min: 1, max: Infinity, integer: true },
  headersTimeout: { fallback: 15 * SECOND, min: 1, max: Infinity, integer: true },
  bodyTimeout: { fallback: 15 * SECOND, min: 1, max: Infinity, integer: true },
  attemptTimeout: { fallback: DEFAULT_ATTEMPT_TIMEOUT, min: 1, max: 2 ** 31 - 1, integer: true },
  maxResponseSize: { fallback: 64 * 1024, min: 1, max: Infinity, integer: true },
  concurrency: { fallback: 64, min: 1, max: Infinity, integer: true },
  closeGrace: { fallback: 5 * SECOND, min: 0, max: Infinity, integer: false },
  unknownKeyGrace: { fallback: 10 * MINUTE, min: 0, max: Infinity, integer: false }
} as const
const HOOKS = ['lookup', 'secretFor', 'onAttempt', 'onOutcome', 'onReceiverUnhealthy', 'onPending'] as const
const ISOLATION = {
  perReceiver: { fallback: undefined, min: 1, max: Infinity, integer: true },
  failureThreshold: { fallback: 5, min: 1, max: Infinity, integer: true },
  coolDown: { fallback: 30 * SECOND, min: 1, max: 2 ** 31 - 1, integer: true },
  maxCoolDown: { fallback: 10 * MINUTE, min: 1, max: 2 ** 31 - 1, integer: true },
  unhealthyAfter: { fallback: HOUR, min: 0, max: Infinity, integer: false }
} as const
const ENGINE_METHODS = ['open', 'add', 'work', 'close', 'pending'] as const
const KEYS = new Set(['secret', 'headers', 'userAgent', 'allowHttp', 'allow', 'schedule', 'engine', 'deliver', 'isolation', ...HOOKS, ...Object.keys(NUMBERS)])

function fail (fault: string): never {
  throw new InvalidDeliveryOptionsError(fault)
}

/** Checks the `delivery` option once, at registration, and fills in the defaults. */
export function normaliseDeliveryOptions (options: DeliveryOptions = {}): NormalisedDeliveryOptions {
  if (typeof options !== 'object' || options === null) fail('it must be an object')
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) fail(`unknown option "${key}"`)
  }
  const numbers = checkNumbers(options, NUMBERS, '') as Record<keyof typeof NUMBERS, number>
  const { isolation: isolationOptions = {} } = options
  if (typeof isolationOptions !== 'object' || isolationOptions === null) fail('isolation must be an object')
  for (const key of Object.keys(isolationOptions)) {
    if (!Object.hasOwn(ISOLATION, key)) fail(`unknown option "isolation.${key}"`)
  }
  const isolation = checkNumbers(isolationOptions, ISOLATION, 'isolation.') as Record<keyof typeof ISOLATION, number>
  isolation.perReceiver ??= Math.max(1, Math.ceil(numbers.concurrency / 8))
  if (isolation.maxCoolDown < isolation.coolDown) fail(`isolation.maxCoolDown must be at least isolation.coolDown (${isolation.coolDown}), not ${isolation.maxCoolDown}`)
  for (const key of HOOKS) {
    if (options[key] !== undefined && typeof options[key] !== 'function') fail(`${key} must be a function`)
  }
  const { secret = [], allowHttp = false, allow = [], schedule = DEFAULT_SCHEDULE, engine = createMemoryEngine(), deliver = true, userAgent = `fastify-openapi-callbacks/${VERSION}` } = options
  if (typeof userAgent !== 'string' || userAgent === '' || !isFieldValue(userAgent)) fail('userAgent must be a non-empty header value: visible ASCII characters, with spaces or tabs only between them')
  const { headers } = checkHeaders(options.headers, () => 'the `delivery.headers` option', fail)
  if (typeof allowHttp !== 'boolean') fail('allowHttp must be a boolean')
  if (typeof deliver !== 'boolean') fail('deliver must be a boolean')
  if (!Array.isArray(allow)) fail('allow must be an array of hosts, IP addresses and CIDR ranges')
  if (!Array.isArray(schedule) || schedule.length === 0 || !schedule.every(delay => typeof delay === 'number' && delay >= 0 && Number.isFinite(delay))) {
    fail('schedule must be a non-empty array of delays in milliseconds (0 or more), the first before the first attempt')
  }
  if (!ENGINE_METHODS.every(method => typeof (engine as unknown as Record<string, unknown> | null)?.[method] === 'function')) {
    fail(`engine must implement ${ENGINE_METHODS.join(', ')}, as createMemoryEngine() and the BullMQ engine do`)
  }
  return {
    secrets: [secret].flat().map(parseSecret),
    secretFor: options.secretFor,
    headers,
    userAgent,
    allowHttp,
    allow: [...allow],
    lookup: options.lookup,
    schedule: [...schedule],
    ...numbers,
    engine,
    deliver,
    onAttempt: options.onAttempt,
    onOutcome: options.onOutcome,
    onReceiverUnhealthy: options.onReceiverUnhealthy,
    onPending: options.onPending,
    isolation: { ...isolation, maxRetryAfter: numbers.maxRetryAfter, attemptTimeout: numbers.attemptTimeout }
  }
}

type NumberRules = Record<string, { fallback: number | undefined, min: number, max: number, integer: boolean }>

function checkNumbers (options: object, rules: NumberRules, path: string): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(rules).map(([key, { fallback, min, max, integer }]) => {
    const value = (options as Record<string, unknown>)[key] ?? fallback
    if (value !== undefined && (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value)))) {
      fail(`${path}${key} must be ${integer ? 'an integer' : 'a number'} from ${min}${max === Infinity ? ' up' : ` to ${max}`}, not ${inspect(value)}`)
    }
    return [key, value]
  }))
}
