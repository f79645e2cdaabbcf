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
  const unavailable = (request: SecretRequest, fault: string, cause?: unknown): Error =>
    new SecretUnavailableError(request.subscriber === undefined ? `the target ${request.target.key}` : `subscriber "${request.subscriber}"`, fault, { cause })
  async function resolve (resolver: SecretResolver, request: SecretRequest): Promise<readonly Buffer[]> {
    let timer: NodeJS.Timeout | undefined
    let answer: Awaited<ReturnType<SecretResolver>>
    try {
      answer = await Promise.race([
        Promise.resolve().then(() => resolver(request)),
        new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(unavailable(request, `secretFor did not answer within ${timeout} ms`)), timeout).unref() })
      ])
    } catch (error) {
      throw (error as { code?: string } | undefined)?.code === 'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE' ? error : unavailable(request, `secretFor failed (${String(error)})`, error)
    } finally {
      clearTimeout(timer)
    }
    if (answer === undefined) return fallback
    const secrets = typeof answer === 'string' ? [answer] : answer
    if (!Array.isArray(secrets) || secrets.length === 0) throw unavailable(request, 'secretFor gave neither a whsec_ secret, a non-empty array of them, nor undefined')
    return secrets.map(parseSecret)
  }
  return { keys: request => secretFor === undefined ? fallback : resolve(secretFor, request) }
}
