import type { FastifyBaseLogger, FastifyError } from 'fastify'
import type { DeliveryMessage } from '../message.js'
import type { FinalOutcome } from '../../outcome-policy/outcome-policy.js'
import type { Admission } from '../receivers.js'
import type { AttemptResult } from '../sender.js'

/**
 * What comes after an attempt, as the plugin decided it by the retry policy. An engine stores `message` (it carries
 * the next attempt number) and runs it again after `delay` milliseconds; a `postpone` was not an attempt.
 */
export type AttemptStep =
  | { type: 'retry', delay: number, message: DeliveryMessage, result: AttemptResult }
  | { type: 'final', outcome: FinalOutcome, message: DeliveryMessage, result: AttemptResult }
  | { type: 'postpone', delay: number, message: DeliveryMessage, reason: 'unknown-key' | 'closing' | 'receiver' }

/** What the plugin gives an engine when it opens: the engine owns timing and fetching, the plugin the policy. */
export interface EngineContext {
  /** Attempts in flight at most, in this process. */
  concurrency: number
  /**
   * Runs the message's attempt and decides what comes next. Never rejects. When the message's receiver cannot take
   * an attempt now (at its share, its breaker open, throttled), nothing is sent: a `postpone` step says how long to wait.
   */
  run (message: DeliveryMessage): Promise<AttemptStep>
  /** A message's receiver (its target's origin): each gets its own share of the attempts in flight. */
  receiverOf (message: DeliveryMessage): string
  /**
   * Whether a receiver can take an attempt now, for an engine that schedules by receiver: `room` attempts, or none for
   * `wait` milliseconds (Infinity: until one of its attempts in flight ends).
   */
  admission (receiver: string): Admission
  /** Once the engine has recorded a message's end: the plugin logs it and calls onOutcome. Never throws. */
  finished (step: Extract<AttemptStep, { type: 'final' }>): void
  /** Once the engine has ended a stored message it could not read (readMessage): the plugin logs it and calls onOutcome. Never throws. */
  unreadable (messageId: string, error: FastifyError): void
  log: FastifyBaseLogger
}

/**
 * Where queued messages wait and who runs them: in this process (the memory engine), or in a shared store that
 * several processes fetch from (BullMQ). Every method may be called once the plugin has opened it.
 */
export interface DeliveryEngine {
  /** At ready(): connects, checks its store. */
  open (context: EngineContext): Promise<void>
  /**
   * Keeps a new message, its first attempt due after `delay` milliseconds. Resolves once the message is kept (for a
   * durable engine: stored); a message whose id is already kept is left as it is.
   */
  add (message: DeliveryMessage, delay: number): Promise<void>
  /** Starts running due attempts in this process, `concurrency` at most at once, each through `context.run`. */
  work (): Promise<void>
  /** Stops fetching; resolves once the attempts in flight have settled and their steps are recorded. */
  close (): Promise<void>
  /** After close: the messages this process holds that are not finished, for onPending (none for a durable engine). */
  pending (): Promise<PendingMessage[]>
}

/** A message not finished at close, and when its next attempt was due (epoch milliseconds). */
export interface PendingMessage {
  message: DeliveryMessage
  runAt: number
}
