import { InvalidDefinitionError } from '../util/errors.js'
import { namedDefinitions } from './route-callbacks.js'
import type { NamedCallback } from './route-callbacks.js'

/**
 * Callbacks for every route of an encapsulated context, as FastAPI's `APIRouter(callbacks=...)`. Fastify makes a
 * child context with Object.create(parent), so a route's contexts are its instance's prototype chain: each keeps
 * its own list, and a route reads them outer to inner, so an outer context's callbacks come before an inner one's.
 */
export interface ContextCallbacks {
  add: (instance: object, callbacks: unknown) => void
  of: (instance: object) => NamedCallback[]
}

export function createContextCallbacks (): ContextCallbacks {
  const byContext = new WeakMap<object, NamedCallback[]>()
  return {
    add (instance, callbacks) {
      const { prefix } = instance as { prefix: string }
      const label = `fastify.routeCallbacks() in the context of prefix "${prefix === '' ? '/' : prefix}"`
      const named = namedDefinitions(label, callbacks, 'callbacks')
      if (named === undefined) throw new InvalidDefinitionError(label, 'callbacks must be router.routes, a callback definition or a record of them; a raw OpenAPI map belongs in a route\'s schema.callbacks')
      const own = byContext.get(instance) ?? []
      byContext.set(instance, own)
      own.push(...named)
    },
    of (instance) {
      const lists: NamedCallback[][] = []
      for (let context: object | null = instance; context !== null; context = Object.getPrototypeOf(context) as object | null) {
        const own = byContext.get(context)
        if (own !== undefined) lists.unshift(own)
      }
      return lists.flat()
    }
  }
}
