import type { FastifyBaseLogger, FastifyError } from 'fastify'
import { breakerAfter, CLOSED, probe, receiverSignal, throttleFor } from '../outcome-policy/outcome-policy.js'
import type { AttemptFacts, Breaker, BreakerSettings } from '../outcome-policy/outcome-policy.js'
import { callHook } from './hooks.js'
import type { Hook } from './hooks.js'
import type { DeliveryMessage } from './message.js'

/** `onReceiverUnhealthy`: a receiver's breaker has not closed for `unhealthyAfter`. Once per such stretch. */
export interface ReceiverUnhealthyEvent {
  /** The receiver: its target's origin, `scheme://host[:port]`. */
  receiver: string
  /** Epoch milliseconds since when its breaker has been open. */
  since: number
  /** Consecutive attempts that found it down. */
  failures: number
  /** The last of them. */
  error: FastifyError | undefined
}

export interface IsolationSettings extends BreakerSettings {
  /** Attempts in flight at most to one receiver, in this process. */
  perReceiver: number
  /** How long a breaker stays open before `onReceiverUnhealthy`. */
  unhealthyAfter: number
  /** The longest Retry-After honoured. */
  maxRetryAfter: number
  /** The longest an attempt lasts: the longest a receiver at its share can keep a message waiting. */
  attemptTimeout: number
}

/** Whether a receiver can take an attempt now: `room` attempts, or none for `wait` ms (Infinity: until one of its own ends). */
export interface Admission {
  room: number
  wait: number
}

export interface ReceiverGate {
  /** A message's receiver: its target's origin (scheme, host, port). */
  receiverOf (message: DeliveryMessage): string
  admission (receiver: string): Admission
  /**
   * For an engine that cannot be woken when a receiver can take its messages again: how long to postpone one, after
   * `admission` gave `wait`. A timed hold ends spread over a tenth of its length, so that the messages it held do not
   * all come back at once; a receiver at its share is asked again after about as long as its attempts take.
   */
  postponeFor (receiver: string, wait: number): number
  /** An attempt to `receiver` starts: it holds one of the receiver's slots until `release`. Returns its start. */
  acquire (receiver: string): number
  /** The attempt that `acquire` started ended: its slot frees, and its result moves the receiver's breaker and throttle. */
  release (receiver: string, started: number, result: AttemptFacts & { error?: FastifyError }): void
}

interface ReceiverState {
  /** Start times of the attempts in flight, oldest first. */
  started: number[]
  breaker: Breaker
  /** Whether the half-open breaker's probe is in flight. */
  probing: boolean
  /** Epoch milliseconds: its Retry-After holds its messages until then. */
  throttledUntil: number
  /** The typical length of its attempts (an exponential moving average), in milliseconds. */
  typical: number
  /** Whether onReceiverUnhealthy was called since its breaker opened. */
  reported: boolean
  lastError: FastifyError | undefined
}

// origins of the URLs seen, renewed when full: a queue sends to the same receivers again and again
const ORIGINS_KEPT = 4096
// a message of a receiver at its share asks again at least this late: sooner would only spin
const LEAST_POSTPONE = 50

export interface ReceiverGateOptions {
  settings: IsolationSettings
  log: FastifyBaseLogger
  onReceiverUnhealthy: Hook<ReceiverUnhealthyEvent> | undefined
  now: () => number
  random: () => number
}

/**
 * Each receiver's share of the attempts in flight, its circuit breaker and its Retry-After, in this process: the
 * policy decides each move (lib/outcome-policy), this keeps the state and says whether a receiver can take an attempt.
 */
export function createReceiverGate (options: ReceiverGateOptions): ReceiverGate {
  const { settings, log, onReceiverUnhealthy, now, random } = options
  const states = new Map<string, ReceiverState>()
  const origins = new Map<string, string>()

  function stateOf (receiver: string): ReceiverState {
    let state = states.get(receiver)
    if (state === undefined) {
      state = { started: [], breaker: CLOSED, probing: false, throttledUntil: 0, typical: 0, reported: false, lastError: undefined }
      states.set(receiver, state)
    }
    return state
  }

  /** A receiver with nothing in flight and nothing to remember is forgotten: the map holds only receivers in play. */
  function forgetIfIdle (receiver: string, state: ReceiverState, at: number): void {
    if (state.started.length === 0 && state.breaker === CLOSED && state.throttledUntil <= at) states.delete(receiver)
  }

  function logBreaker (receiver: string, before: Breaker, after: Breaker): void {
    if (after.state === before.state && after.until === before.until) return
    const fields = { receiver, failures: after.failures }
    if (after.state === 'closed') log.info(fields, 'receiver answering again: its circuit breaker closed')
    else if (before.state === 'closed') log.warn({ ...fields, coolDown: after.coolDown }, 'receiver down: its circuit breaker opened; its messages wait without attempts')
    else log.warn({ ...fields, coolDown: after.coolDown }, 'receiver still down: the probe failed; its circuit breaker opened again')
  }

  return {
    receiverOf (message) {
      const { url } = message.target
      let origin = origins.get(url)
      if (origin === undefined) {
        origin = new URL(url).origin
        if (origins.size >= ORIGINS_KEPT) origins.clear()
        origins.set(url, origin)
      }
      return origin
    },

    admission (receiver) {
      const state = states.get(receiver)
      if (state === undefined) return { room: settings.perReceiver, wait: 0 }
      const at = now()
      if (state.throttledUntil > at) return { room: 0, wait: state.throttledUntil - at }
      const { breaker } = state
      if (breaker.state === 'open' && breaker.until > at) return { room: 0, wait: breaker.until - at }
      if (breaker.state !== 'closed') return state.probing || state.started.length > 0 ? { room: 0, wait: Infinity } : { room: 1, wait: 0 }
      const room = settings.perReceiver - state.started.length
      return room > 0 ? { room, wait: 0 } : { room: 0, wait: Infinity }
    },

    postponeFor (receiver, wait) {
      if (Number.isFinite(wait)) return Math.round(wait * (1 + random() / 10))
      // an endless wait is a receiver with attempts in flight; the oldest has lasted this long already, and the next
      // slot frees no sooner than a typical attempt ends
      const { started, typical } = states.get(receiver)!
      const expected = Math.min(settings.attemptTimeout, Math.max(LEAST_POSTPONE, typical, now() - started[0]!))
      return Math.round(expected * (1 + random() / 2))
    },

    acquire (receiver) {
      const state = stateOf(receiver)
      const at = now()
      const before = state.breaker
      state.breaker = probe(before, at)
      if (state.breaker.state === 'half-open') {
        if (before.state === 'open') log.info({ receiver, failures: before.failures }, 'receiver cooled down: one probe goes out')
        state.probing = true
      }
      state.started.push(at)
      return at
    },

    release (receiver, started, result) {
      const state = states.get(receiver)!
      const at = now()
      state.started.splice(state.started.indexOf(started), 1)
      state.typical = state.typical === 0 ? at - started : state.typical * 0.8 + (at - started) * 0.2
      const wasProbe = state.probing && state.breaker.state === 'half-open'
      if (wasProbe) state.probing = false
      const signal = receiverSignal(result)
      if (signal === 'down') state.lastError = result.error
      const before = state.breaker
      state.breaker = breakerAfter(before, signal, wasProbe, at, settings)
      logBreaker(receiver, before, state.breaker)
      if (state.breaker === CLOSED) state.reported = false
      const throttle = throttleFor(result, settings)
      if (throttle !== undefined && at + throttle > state.throttledUntil) {
        if (state.throttledUntil <= at) log.info({ receiver, statusCode: result.statusCode, wait: throttle }, 'receiver asked to slow down (Retry-After): its messages wait')
        state.throttledUntil = at + throttle
      }
      const { openSince } = state.breaker
      if (state.breaker.state === 'open' && !state.reported && openSince !== undefined && at - openSince >= settings.unhealthyAfter) {
        state.reported = true
        log.error({ receiver, since: new Date(openSince).toISOString(), failures: state.breaker.failures }, 'receiver unhealthy: its circuit breaker has stayed open; onReceiverUnhealthy is called')
        callHook(onReceiverUnhealthy, { receiver, since: openSince, failures: state.breaker.failures, error: state.lastError }, log, 'onReceiverUnhealthy')
      }
      forgetIfIdle(receiver, state, at)
    }
  }
}
