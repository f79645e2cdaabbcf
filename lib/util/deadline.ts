/**
 * Settles as `work` does, or rejects with `timeout()` after `ms` milliseconds, whichever comes first. The work itself
 * is not stopped: a late result is dropped (a late rejection too, as the race has handled it).
 */
export async function withDeadline<T> (work: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(timeout()), ms).unref() })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}
