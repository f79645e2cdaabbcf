/**
 * Polls `check` until it gives a value other than undefined or false, and returns it; fails saying what never
 * happened once `deadline` milliseconds have passed. A bound on waiting, not a timed assertion.
 */
export async function eventually<T> (check: () => T | undefined | false | Promise<T | undefined | false>, what: string, deadline = 30_000): Promise<T> {
  const end = Date.now() + deadline
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error(`gave up after ${deadline} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
