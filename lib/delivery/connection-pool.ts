import { Client, Pool } from 'undici'
import type { Dispatcher } from 'undici'

/**
 * A connection that stays usable after undici refuses a request on it. undici's Pool takes a connection whose
 * dispatch() returns false for a busy one, until it drains; but a refused request (a header undici will not send)
 * also returns false, and leaves nothing to drain: each refusal would take one of a receiver's connections for good,
 * and past `concurrency` of them every later request to that receiver waits forever. A refused request leaves the
 * connection as it found it: as free as when the Pool chose it.
 */
class RefusalProofClient extends Client {
  override dispatch (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const queued = this.stats.size
    return super.dispatch(options, handler) || this.stats.size === queued
  }
}

const refusalProofClient = (origin: URL, options: Client.Options): Dispatcher => new RefusalProofClient(origin, options)

/** The Agent's `factory`: what undici's own makes (one connection, or a Pool of them), with connections that survive a refusal. */
export function connectionPool (origin: string | URL, options: Pool.Options): Dispatcher {
  return options.connections === 1 ? new Client(origin, options) : new Pool(origin, { ...options, factory: refusalProofClient })
}
