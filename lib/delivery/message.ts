import { randomUUID } from 'node:crypto'
import type { Target } from './target.js'

/**
 * A message accepted by enqueue(): validated, serialised and addressed. Plain JSON, nothing live, so that a durable
 * engine can store it and any process that registers the same app can deliver it: the definition is found again by `key`.
 */
export interface DeliveryMessage {
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
  /** The attempt to run next: 1 for the first. */
  attempt: number
  /** Epoch milliseconds. */
  enqueuedAt: number
  /** Epoch milliseconds: since when no process that ran it knew its key (a rolling deploy); absent while known. */
  unknownSince?: number
  /** Set once that has been reported. */
  unknownReported?: boolean
}

/** A fresh message id, stable across the delivery attempts of one message (the receiver's idempotency key). */
export function newMessageId (): string {
  return `msg_${randomUUID()}`
}
