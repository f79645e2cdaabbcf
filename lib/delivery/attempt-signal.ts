import { EventEmitter } from 'node:events'

/**
 * The signal of one attempt, for undici's request(): an EventEmitter, which undici accepts as a signal and which
 * costs far less than an AbortSignal. Its deadline and the close both abort it, so no AbortSignal.any is needed.
 * `onAbort` gets the reason: it ends the attempt at once, even where undici cannot (a request still waiting for its
 * connection only fails when connecting does).
 */
export class AttemptSignal extends EventEmitter {
  aborted = false
  reason: Error | undefined
  readonly #onAbort: (reason: Error) => void

  constructor (onAbort: (reason: Error) => void) {
    super()
    this.#onAbort = onAbort
  }

  /** Called once: by the deadline, or by the close, and the attempt ends at once. */
  abort (reason: Error): void {
    this.aborted = true
    this.reason = reason
    this.emit('abort')
    this.#onAbort(reason)
  }
}
