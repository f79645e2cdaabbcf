import type { FastifyBaseLogger } from 'fastify'

export type Hook<Event> = (event: Event) => void | Promise<void>

/** Calls an app's hook. The promise never rejects: what the hook throws or rejects with is logged, so it cannot crash the process. */
export function callHook<Event> (hook: Hook<Event> | undefined, event: Event, log: FastifyBaseLogger, name: string): Promise<void> {
  const failed = (error: unknown): void => { log.error({ err: error }, `the ${name} hook failed`) }
  try {
    return Promise.resolve(hook?.(event)).catch(failed)
  } catch (error) {
    failed(error)
    return Promise.resolve()
  }
}
