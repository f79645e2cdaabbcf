import { isDefinition } from '../definition/definition.js'
import { InvalidDefinitionError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import { namedDefinitions } from './named-callbacks.js'
import type { NamedCallback } from './named-callbacks.js'

/**
 * Callbacks for every route of an encapsulated context, as FastAPI's `APIRouter(callbacks=...)`. Fastify makes a
 * child context with Object.create(parent), so a route's contexts are its instance's prototype chain: each keeps
 * its own list, and a route reads them outer to inner, so an outer context's callbacks come before an inner one's.
 */
export interface ContextCallbacks {
  /** `source` says where they were given, for errors. */
  add: (instance: object, callbacks: unknown, source?: string) => void
  of: (instance: object) => NamedCallback[]
}

export function createContextCallbacks (): ContextCallbacks {
  const byContext = new WeakMap<object, NamedCallback[]>()
  return {
    add (instance, callbacks, source = 'fastify.routeCallbacks()') {
      const { prefix } = instance as { prefix: string }
      const label = `${source} in the context of prefix "${prefix === '' ? '/' : prefix}"`
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

/**
 * Whether a register() option `callbacks` holds callback definitions (router.routes, one, or a record of them), as
 * FastAPI's `include_router(router, callbacks=...)`: then it is the new context's. Any other value is an option of
 * the plugin being registered, which register options belong to, and is left to it.
 */
export function holdsDefinitions (value: unknown): boolean {
  const listsOne = (list: unknown): boolean => Array.isArray(list) && list.some(isDefinition)
  return isDefinition(value) || listsOne(value) || (isObject(value) && Object.values(value).some(item => isDefinition(item) || listsOne(item)))
}
