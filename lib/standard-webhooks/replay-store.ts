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

interface Held { expiry: number, id: string }

/**
 * The default store: in this process's memory, holding at most `maxEntries` ids. Every expired id leaves before an id
 * is added, whatever order they came in; when it is full of ids still within their tolerance, `seen` throws (the
 * request is answered 503, which senders retry) rather than forget an id early and let its replay through.
 * `now` is the clock, in epoch milliseconds.
 */
export function createReplayMemoryStore (maxEntries: number, now: () => number = Date.now): ReplayStore {
  // id -> expiry (epoch ms); a Map, so that an id never touches an object's prototype
  const expiries = new Map<string, number>()
  // the same ids by expiry, soonest first (a binary min-heap): a timestamp ahead of the others must not hold back the
  // sweep. An entry whose id was forgotten, or held again since, no longer matches `expiries` and is skipped
  let heap: Held[] = []

  const sooner = (a: number, b: number): boolean => heap[a]!.expiry < heap[b]!.expiry
  const swap = (a: number, b: number): void => { [heap[a], heap[b]] = [heap[b]!, heap[a]!] }
  function push (held: Held): void {
    heap.push(held)
    for (let child = heap.length - 1, parent = (child - 1) >> 1; child > 0 && sooner(child, parent); child = parent, parent = (child - 1) >> 1) swap(child, parent)
  }
  // the parent, or the child of it that expires sooner
  function soonestOf (parent: number): number {
    let soonest = parent
    for (const child of [2 * parent + 1, 2 * parent + 2]) if (child < heap.length && sooner(child, soonest)) soonest = child
    return soonest
  }
  function pop (): void {
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    for (let parent = 0, soonest = soonestOf(0); soonest !== parent; parent = soonest, soonest = soonestOf(parent)) swap(parent, soonest)
  }

  return {
    seen (id, ttlMs) {
      const time = now()
      while (heap.length > 0 && heap[0]!.expiry <= time) {
        const { id: expired, expiry } = heap[0]!
        if (expiries.get(expired) === expiry) expiries.delete(expired)
        pop()
      }
      if (expiries.has(id)) return true
      if (expiries.size >= maxEntries) {
        throw new Error(`the in-memory store holds its maximum of ${maxEntries} message ids still within the tolerance (replay.maxEntries)`)
      }
      const expiry = time + ttlMs
      expiries.set(id, expiry)
      push({ expiry, id })
      return false
    },
    forget (id) {
      expiries.delete(id)
      // forgotten ids leave the heap when they expire; rebuilt sooner if they outnumber the ids held, so that it stays bounded
      if (heap.length > 2 * Math.max(expiries.size, 1024)) {
        heap = []
        for (const [held, expiry] of expiries) push({ expiry, id: held })
      }
    }
  }
}
