interface Waiting {
  expires: number
  what: string
  reject: (error: Error) => void
}

/**
 * A bound of `ms` milliseconds on work: `bounded(work, what)` settles as `work` does, or rejects with `timeout(what)`
 * once `ms` have passed, whichever comes first. The work itself is not stopped: a late result is dropped. One timer
 * serves all the work in flight, set for the oldest: a timer and a race for each piece of work (each enqueued message)
 * cost more than the rest of the engine's part in it.
 */
export function createDeadline (ms: number, timeout: (what: string) => Error): <T>(work: Promise<T>, what: string) => Promise<T> {
  // a Set keeps the order of insertion, which under one bound is the order of expiry; settled work leaves it at once.
  // Times are monotonic (performance.now()): a wall clock set back would stretch every bound
  const waiting = new Set<Waiting>()
  let timer: NodeJS.Timeout | undefined

  function expire (): void {
    timer = undefined
    const now = performance.now()
    for (const entry of waiting) {
      if (entry.expires > now) {
        timer = setTimeout(expire, entry.expires - now).unref()
        return
      }
      waiting.delete(entry)
      entry.reject(timeout(entry.what))
    }
  }

  return <T>(work: Promise<T>, what: string) => new Promise<T>((resolve, reject) => {
    const entry: Waiting = { expires: performance.now() + ms, what, reject }
    waiting.add(entry)
    timer ??= setTimeout(expire, ms).unref()
    work.then(value => {
      waiting.delete(entry)
      resolve(value)
    }, (error: unknown) => {
      waiting.delete(entry)
      reject(error)
    })
  })
}
