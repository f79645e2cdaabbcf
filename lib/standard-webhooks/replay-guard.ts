import { ReplayStoreUnavailableError } from '../util/errors.js'
import type { ReplayStore } from './replay-store.js'

export interface ReplayGuard {
  /** Whether `id` was already accepted; holds it otherwise. Throws FST_OPENAPI_CALLBACKS_REPLAY_STORE_UNAVAILABLE. */
  seen (id: string, ttlMs: number): Promise<boolean>
  /** Lets `id` go. Throws FST_OPENAPI_CALLBACKS_REPLAY_STORE_UNAVAILABLE. */
  forget (id: string): Promise<void>
}

/** The store's calls, each bounded by `timeout` ms: a store that throws, rejects, hangs or answers nonsense fails closed. */
export function createReplayGuard (store: ReplayStore, timeout: number): ReplayGuard {
  async function ask (call: () => unknown, what: string): Promise<unknown> {
    try {
      const answer = call()
      // an answer given at once (the memory store's) needs no timer
      if (typeof (answer as PromiseLike<unknown> | undefined)?.then !== 'function') return answer
      let timer: NodeJS.Timeout | undefined
      const late = new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new ReplayStoreUnavailableError(`${what} did not settle within replay.timeout (${timeout} ms)`)), timeout).unref()
      })
      return await Promise.race([answer, late]).finally(() => clearTimeout(timer))
    } catch (error) {
      throw error instanceof ReplayStoreUnavailableError ? error : new ReplayStoreUnavailableError(`${what} threw ${String(error)}`, { cause: error })
    }
  }

  return {
    async seen (id, ttlMs) {
      const answer = await ask(() => store.seen(id, ttlMs), 'seen()')
      if (typeof answer !== 'boolean') throw new ReplayStoreUnavailableError(`seen() answered ${typeof answer}, not a boolean`)
      return answer
    },
    async forget (id) {
      await ask(() => store.forget(id), 'forget()')
    }
  }
}
