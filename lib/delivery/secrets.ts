import { parseSecret } from '../standard-webhooks/signing.js'
import { SecretUnavailableError } from '../util/errors.js'
import type { Target } from './target.js'

/** Who a message goes to, as the `secretFor` option is asked about it. */
export interface SecretRequest {
  /** The `subscriber` given to send(), enqueue() or fanOut(); undefined when none was. */
  subscriber: string | undefined
  target: Target
}

/** A subscriber's `whsec_` secret(s), several while it rotates; undefined: sign with the plugin's `secret`. */
export type SecretResolver = (request: SecretRequest) => string | readonly string[] | undefined | Promise<string | readonly string[] | undefined>

export interface SecretSource {
  /**
   * The keys to sign one attempt with: the plugin's at once, without a `secretFor`; else a promise, which rejects with
   * FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE or _INVALID_SECRET.
   */
  keys (request: SecretRequest): readonly Buffer[] | Promise<readonly Buffer[]>
}

/**
 * The keys for each attempt: the subscriber's, asked of `secretFor` when the attempt is made (so that a queue holds
 * only the subscriber's id, never a secret), else the plugin's. A resolver that throws, rejects or does not answer
 * within `timeout` gives SECRET_UNAVAILABLE: the attempt is retried, as for a receiver that did not answer.
 */
export function createSecretSource (fallback: readonly Buffer[], secretFor: SecretResolver | undefined, timeout: number): SecretSource {
  const unavailable = (request: SecretRequest, fault: string): Error =>
    new SecretUnavailableError(request.subscriber === undefined ? `the target ${request.target.key}` : `subscriber "${request.subscriber}"`, fault)
  async function resolve (resolver: SecretResolver, request: SecretRequest): Promise<readonly Buffer[]> {
    let timer: NodeJS.Timeout | undefined
    let answer: Awaited<ReturnType<SecretResolver>> | typeof TIMED_OUT
    try {
      answer = await Promise.race([
        Promise.resolve().then(() => resolver(request)),
        new Promise<typeof TIMED_OUT>(resolve => { timer = setTimeout(resolve, timeout, TIMED_OUT).unref() })
      ])
    } catch (error) {
      throw unavailable(request, `secretFor failed (${describeFault(error)})`)
    } finally {
      clearTimeout(timer)
    }
    if (answer === TIMED_OUT) throw unavailable(request, `secretFor did not answer within ${timeout} ms`)
    if (answer === undefined) return fallback
    const secrets = typeof answer === 'string' ? [answer] : answer
    if (!Array.isArray(secrets) || secrets.length === 0) throw unavailable(request, 'secretFor gave neither a whsec_ secret, a non-empty array of them, nor undefined')
    return secrets.map(parseSecret)
  }
  return { keys: request => secretFor === undefined ? fallback : resolve(secretFor, request) }
}

const TIMED_OUT = Symbol('timed out')

/**
 * What a resolver threw, by its name and code alone: its message may quote the secret, a vault token or a
 * connection string, and the error it is given to is logged and handed to the app's hooks.
 */
function describeFault (error: unknown): string {
  const { name, code } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown, code?: unknown }
  const kind = typeof name === 'string' ? name : `a thrown ${error === null ? 'null' : typeof error}`
  return typeof code === 'string' || typeof code === 'number' ? `${kind}, code ${code}; its text is left out` : `${kind}; its text is left out`
}
