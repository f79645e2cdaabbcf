import { AsyncResource } from 'node:async_hooks'
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

/**
 * One attempt's request, dispatched on the Agent: what undici's request() does, without a stream per answer nor a
 * signal per request. A body is kept only when it is to be read; else its chunks are dropped as they come. Either
 * way the attempt ends when the body does: a receiver that trickles it is ended by the deadline, whatever its status.
 * Ends once: with the answer, with no answer, or by abort(). The end runs in the async context the attempt was made in,
 * not in that of the connection (which an earlier attempt may have opened), as request() did.
 */
export abstract class AttemptHandler extends AsyncResource implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined
  #abortedBy: Error | undefined
  #ended = false
  #statusCode = 0
  #headers: IncomingHttpHeaders = {}
  #chunks: Buffer[] | undefined

  constructor () {
    super('FASTIFY_OPENAPI_CALLBACKS_ATTEMPT')
  }

  /** Whether this answer's body is read. */
  protected abstract keepsBody (statusCode: number, headers: IncomingHttpHeaders): boolean
  /** The whole answer: `body` when it was kept and came in full, `error` when it broke off (too large, too slow, reset). */
  protected abstract answered (statusCode: number, headers: IncomingHttpHeaders, body: Buffer | undefined, error: Error | undefined): void
  /** No answer: undici's error, the address policy's refusal, or the reason abort() was given. */
  protected abstract unanswered (error: Error): void

  /**
   * Ends an attempt still running at once, even where undici cannot: a request still waiting for its connection is
   * aborted when it gets one.
   */
  abort (reason: Error): void {
    this.#ended = true
    this.#abortedBy = reason
    this.unanswered(reason)
    this.#controller?.abort(reason)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    if (this.#abortedBy === undefined) this.#controller = controller
    else controller.abort(this.#abortedBy)
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx answers (Early Hints) come before the real one
    if (statusCode < 200) return
    this.#statusCode = statusCode
    this.#headers = headers
    if (this.keepsBody(statusCode, headers)) this.#chunks = []
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks?.push(chunk)
  }

  onResponseEnd (): void {
    this.#ended = true
    this.runInAsyncScope(this.answered, this, this.#statusCode, this.#headers, this.#chunks && Buffer.concat(this.#chunks), undefined)
  }

  // after abort(), undici reports the abort itself: the attempt has ended already
  onResponseError (_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#statusCode === 0) this.runInAsyncScope(this.unanswered, this, error)
    else this.runInAsyncScope(this.answered, this, this.#statusCode, this.#headers, undefined, error)
  }
}
