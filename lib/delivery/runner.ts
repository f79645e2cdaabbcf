import type { FastifyBaseLogger } from 'fastify'
import type { OperationDefinition } from '../definition/definition.js'
import type { AttemptStep, EngineContext } from './engines/engine.js'
import { callHook } from './hooks.js'
import type { Hook } from './hooks.js'
import { logs } from './log-level.js'
import type { DeliveryMessage } from './message.js'
import type { DeliveryRegistry } from './registry.js'
import { cutShortByClose, decide } from '../outcome-policy/outcome-policy.js'
import type { FinalOutcome, RetryPolicy } from '../outcome-policy/outcome-policy.js'
import { createReceiverGate } from './receivers.js'
import type { IsolationSettings, ReceiverUnhealthyEvent } from './receivers.js'
import type { AttemptResult, Sender } from './sender.js'
import type { Target } from './target.js'

export interface OutcomeEvent {
  messageId: string
  /**
   * undefined when this process does not know the message's key (a message of another release, ended by its durable
   * engine, e.g. stalled), or when the message is unreadable.
   */
  definition: OperationDefinition | undefined
  /** undefined when the message is unreadable: the engine held data that is no message. */
  target: Target | undefined
  outcome: FinalOutcome
  /** How many attempts were made. */
  attempts: number
  /** The last attempt's result. */
  result: AttemptResult
}

export interface RunnerOptions {
  registry: DeliveryRegistry
  sender: Pick<Sender, 'attempt'>
  policy: RetryPolicy
  isolation: IsolationSettings
  concurrency: number
  /** How long a message whose key no process knows waits before it is reported; it keeps waiting after. */
  unknownKeyGrace: number
  log: FastifyBaseLogger
  onOutcome: Hook<OutcomeEvent> | undefined
  onReceiverUnhealthy: Hook<ReceiverUnhealthyEvent> | undefined
  now?: () => number
  random?: () => number
}

// a message no process here knows is tried again this often: a rolling deploy brings a process that knows it
const UNKNOWN_KEY_RETRY = 30_000

/** The plugin's side of every engine: finds the definition by key, sends, applies the retry policy, reports. */
export function createRunner (options: RunnerOptions): EngineContext {
  const { registry, sender, policy, concurrency, unknownKeyGrace, log, onOutcome, now = Date.now, random = Math.random } = options
  const gate = createReceiverGate({ settings: options.isolation, log, onReceiverUnhealthy: options.onReceiverUnhealthy, now, random })

  function unknown (message: DeliveryMessage): AttemptStep {
    const since = message.unknownSince ?? now()
    const report = message.unknownReported !== true && now() - since >= unknownKeyGrace
    if (report) {
      log.error({ messageId: message.id, key: message.key, since: new Date(since).toISOString() }, 'no process that ran this message knows its key: deploy the code that declares it, or it is never sent')
    }
    const postponed: DeliveryMessage = { ...message, unknownSince: since }
    if (report) postponed.unknownReported = true
    return { type: 'postpone', delay: UNKNOWN_KEY_RETRY, message: postponed, reason: 'unknown-key' }
  }

  return {
    concurrency,
    log,
    receiverOf: gate.receiverOf,
    admission: gate.admission,
    async run (message) {
      const registered = registry.byKey(message.key)
      if (registered === undefined) return unknown(message)
      // a receiver at its share, cooling down or throttled: the message waits, and that is no attempt
      const receiver = gate.receiverOf(message)
      const { room, wait } = gate.admission(receiver)
      if (room === 0) return { type: 'postpone', delay: gate.postponeFor(receiver, wait), message, reason: 'receiver' }
      const started = gate.acquire(receiver)
      const known = message.unknownSince === undefined ? message : forgetUnknown(message)
      const result = await sender.attempt(message, registered.definition)
      gate.release(receiver, started, result)
      if (cutShortByClose(result)) return { type: 'postpone', delay: 0, message: known, reason: 'closing' }
      const decision = decide(message.attempt, result, policy, random)
      if (!decision.retry) return { type: 'final', outcome: decision.outcome, message: known, result }
      log.info({ messageId: message.id, attempt: message.attempt + 1, runAt: new Date(now() + decision.delay).toISOString() }, 'retry scheduled')
      return { type: 'retry', delay: decision.delay, message: { ...known, attempt: message.attempt + 1 }, result }
    },
    finished ({ message, outcome, result }) {
      // a durable engine may end a message of another release, whose key this process does not know
      const definition = registry.byKey(message.key)?.definition
      // one line per message at info: its outcome; a failure at warn
      const delivered = outcome === 'delivered'
      if (logs(log, delivered ? 'info' : 'warn')) {
        const fields = { messageId: message.id, kind: message.target.kind, name: message.target.name, host: new URL(message.target.url).host, attempts: message.attempt, outcome }
        if (delivered) log.info(fields, 'message delivered')
        else log.warn(fields, `message ${outcome}`)
      }
      callHook(onOutcome, { messageId: message.id, definition, target: message.target, outcome, attempts: message.attempt, result }, log, 'onOutcome')
    },
    unreadable (messageId, error) {
      log.error({ messageId, err: error }, 'a stored message could not be read: it ended as unreadable, unsent')
      callHook(onOutcome, { messageId, definition: undefined, target: undefined, outcome: 'unreadable', attempts: 0, result: { outcome: 'failed', statusCode: undefined, error } }, log, 'onOutcome')
    }
  }
}

function forgetUnknown ({ unknownSince: _since, unknownReported: _reported, ...message }: DeliveryMessage): DeliveryMessage {
  return message
}
