type Awaitable<T> = T | Promise<T>

/**
 * Where a receiver remembers the message ids it accepted. Several receiver processes need one shared store, such as
 * Redis: `seen` is `SET key 1 PX ttlMs NX` (seen when the answer is null), `forget` is `DEL key`.
 */
export interface ReplayStore {
  /** Atomically: true if `id` is held (a replay); else holds it for `ttlMs` and gives false. */
  seen (id: string, ttlMs: number): Awaitable<boolean>
  /** Lets `id` go: its handler answered 429 or 5xx, so the sender's retry must be accepted. */
  forget (id: string): Awaitable<void>
}

export const DEFAULT_REPLAY_ENTRIES = 100_000

/**
 * The default store: in this process's memory, holding at most `maxEntries` ids. Expired ids leave first, from the
 * oldest on; when it is full of ids still within their tolerance, `seen` throws (the request is answered 503, which
 * senders retry) rather than forget an id early and let its replay through.
 */
export function createReplayMemoryStore (maxEntries: number): ReplayStore {
  // id -> expiry (epoch ms); a Map, so that an id never touches an object's prototype. Insertion order is close to
  // expiry order, as every ttl ends at its timestamp plus the same tolerance.
  const expiries = new Map<string, number>()
  return {
    seen (id, ttlMs) {
      const now = Date.now()
      for (const [oldest, expiry] of expiries) {
        if (expiry > now) break
        expiries.delete(oldest)
      }
      if ((expiries.get(id) ?? 0) > now) return true
      expiries.delete(id)
      if (expiries.size >= maxEntries) {
        throw new Error(`the in-memory store holds its maximum of ${maxEntries} message ids still within the tolerance (replay.maxEntries)`)
      }
      expiries.set(id, now + ttlMs)
      return false
    },
    forget (id) {
      expiries.delete(id)
    }
  }
}
