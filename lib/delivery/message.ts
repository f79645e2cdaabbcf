import { createHash, randomUUID } from 'node:crypto'
import { HTTP_METHODS } from '../definition/methods.js'
import { isObject } from '../util/json.js'
import type { Target } from './target.js'

/**
 * The format of the messages this release writes. 1, the previous release's, carries no `version`; 2 adds `version`
 * and `trace`. A reader delivers every format up to its own, and leaves a newer one waiting for a process that knows it.
 */
export const MESSAGE_VERSION = 2

/**
 * A message accepted by enqueue(): validated, serialised and addressed. Plain JSON, nothing live, so that a durable
 * engine can store it and any process that registers the same app can deliver it: the definition is found again by `key`.
 */
export interface DeliveryMessage {
  /** Its format: MESSAGE_VERSION when written by this release; absent in the previous release's messages. */
  version?: number
  /** Its webhook-id, the same on every attempt: the receiver's idempotency key, and a durable engine's job id. */
  id: string
  /** The stable key of the callback or webhook (its operationId), by which any process finds the definition. */
  key: string
  target: Target
  /** The serialised, validated payload; undefined for no body. */
  body: string | undefined
  /**
   * This message's own headers, lower-case: those given to send(), enqueue() or fanOut(), and the body's content-type.
   * The app's headers (user-agent, `delivery.headers`) are not kept here: the process that sends adds its own at each
   * attempt, as it adds webhook-id, webhook-timestamp and webhook-signature.
   */
  headers: Record<string, string>
  /** Who receives it, for the `secretFor` option: the reference a queue keeps, never the secret. */
  subscriber?: string
  /** Trace context (W3C traceparent, tracestate) the message carries from its enqueue to its attempts, untouched. */
  trace?: Record<string, string>
  /** The attempt to run next: 1 for the first. */
  attempt: number
  /** Epoch milliseconds. */
  enqueuedAt: number
  /** Epoch milliseconds: since when no process that ran it knew its key (a rolling deploy); absent while known. */
  unknownSince?: number
  /** Set once that has been reported. */
  unknownReported?: boolean
}

/**
 * What a stored message reads as: a message of a format this release knows; one of a newer format, to leave as it is
 * until a process that knows it runs it; or data that is no message of any format, and why.
 */
export type ReadMessage =
  | { state: 'readable', message: DeliveryMessage }
  | { state: 'newer', version: number, fault: string }
  | { state: 'unreadable', fault: string }

const METHODS: ReadonlySet<unknown> = new Set(HTTP_METHODS)
const KINDS: ReadonlySet<unknown> = new Set(['callback', 'webhook'])

/** A fresh message id, stable across the delivery attempts of one message (the receiver's idempotency key). */
export function newMessageId (): string {
  return `msg_${randomUUID()}`
}

/**
 * The message id an idempotency key stands for, within one callback or webhook (its key): the same key gives the same
 * id, so that a retried enqueue finds the message already kept. A name-based UUID (RFC 9562 version 5, SHA-1), so that
 * the id keeps the shape `msg_<uuid>`.
 */
export function idempotentMessageId (key: string, idempotencyKey: string): string {
  const bytes = createHash('sha1').update(`fastify-openapi-callbacks\0${key}\0${idempotencyKey}`).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `msg_${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== ''
const isTextRecord = (value: unknown): value is Record<string, string> => isObject(value) && Object.values(value).every(item => typeof item === 'string')
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

/**
 * Reads a message as an engine stored it, of any format up to MESSAGE_VERSION: every field's type is checked, so that
 * what is delivered is a message, and what is not ends once as unreadable. Every engine that stores messages reads them
 * through this; the message returned is in this release's format.
 */
export function readMessage (data: unknown): ReadMessage {
  if (!isObject(data)) return { state: 'unreadable', fault: 'the message is not an object' }
  const { version = 1 } = data
  if (!Number.isSafeInteger(version) || (version as number) < 1) return { state: 'unreadable', fault: 'version is not a whole number from 1' }
  if ((version as number) > MESSAGE_VERSION) return { state: 'newer', version: version as number, fault: `its format ${version as number} is newer than this release reads (${MESSAGE_VERSION})` }
  const fault = faultOf(data)
  if (fault !== undefined) return { state: 'unreadable', fault }
  const { id, key, target, body, headers, subscriber, trace, attempt, enqueuedAt, unknownSince, unknownReported } = data as unknown as DeliveryMessage
  const message: DeliveryMessage = { version: MESSAGE_VERSION, id, key, target, body, headers, attempt, enqueuedAt }
  if (subscriber !== undefined) message.subscriber = subscriber
  if (trace !== undefined) message.trace = trace
  if (unknownSince !== undefined) message.unknownSince = unknownSince
  if (unknownReported !== undefined) message.unknownReported = unknownReported
  return { state: 'readable', message }
}

/** The first field of a message of a known format whose type is wrong, or undefined. */
function faultOf (data: Record<string, unknown>): string | undefined {
  const { id, key, target, body, headers, subscriber, trace, attempt, enqueuedAt, unknownSince, unknownReported } = data
  if (!isText(id)) return 'id is not a non-empty string'
  if (!isText(key)) return 'key is not a non-empty string'
  if (!isObject(target)) return 'target is not an object'
  if (!KINDS.has(target.kind)) return 'target.kind is neither callback nor webhook'
  if (!isText(target.key) || !isText(target.name)) return 'target.key or target.name is not a non-empty string'
  if (!METHODS.has(target.method)) return 'target.method is not an HTTP method'
  if (typeof target.url !== 'string' || !URL.canParse(target.url)) return 'target.url is not a URL'
  if (body !== undefined && typeof body !== 'string') return 'body is neither absent nor a string'
  if (!isTextRecord(headers)) return 'headers is not an object of strings'
  if (subscriber !== undefined && !isText(subscriber)) return 'subscriber is neither absent nor a non-empty string'
  if (trace !== undefined && !isTextRecord(trace)) return 'trace is neither absent nor an object of strings'
  if (!Number.isSafeInteger(attempt) || (attempt as number) < 1) return 'attempt is not a whole number from 1'
  if (!isTime(enqueuedAt)) return 'enqueuedAt is not a number'
  if (unknownSince !== undefined && !isTime(unknownSince)) return 'unknownSince is neither absent nor a number'
  if (unknownReported !== undefined && typeof unknownReported !== 'boolean') return 'unknownReported is neither absent nor a boolean'
  return undefined
}
