import { defineCallback } from './definition.js'
import type { CallbackDefinition, CallbackOptions, OperationSchema } from './definition.js'
import { methodShorthands } from './methods.js'
import type { HttpMethod, MethodShorthands } from './methods.js'

type MethodShorthand = <S extends OperationSchema = OperationSchema>(url: string, options?: CallbackOptions<S>) => CallbackDefinition<S>

export interface CallbackRouteOptions<S extends OperationSchema = OperationSchema> extends CallbackOptions<S> {
  method: HttpMethod | Lowercase<HttpMethod>
  url: string
}

/** Callbacks declared like Fastify routes; `routes` goes into a route schema's `callbacks`. */
export interface CallbackRouter extends MethodShorthands<MethodShorthand> {
  readonly routes: readonly CallbackDefinition[]
  route: <S extends OperationSchema = OperationSchema>(options: CallbackRouteOptions<S>) => CallbackDefinition<S>
}

export function callbackRouter (): CallbackRouter {
  const routes: CallbackDefinition[] = []
  const add = <S extends OperationSchema>(method: unknown, url: unknown, options?: CallbackOptions<S>): CallbackDefinition<S> => {
    const definition = defineCallback(method, url, options)
    routes.push(definition)
    return definition
  }
  return {
    // a frozen copy, so `routes` handed to a route schema cannot change under it
    get routes () { return Object.freeze([...routes]) },
    route: ({ method, url, ...options }) => add(method, url, options),
    ...methodShorthands((method): MethodShorthand => (url, options) => add(method, url, options))
  }
}
