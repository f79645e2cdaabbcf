import { defineCallback } from './definition.js'
import type { CallbackDefinition, CallbackOptions, HttpMethod, OperationSchema } from './definition.js'

type MethodShorthand = <S extends OperationSchema = OperationSchema>(url: string, options?: CallbackOptions<S>) => CallbackDefinition<S>

export interface CallbackRouteOptions<S extends OperationSchema = OperationSchema> extends CallbackOptions<S> {
  method: HttpMethod | Lowercase<HttpMethod>
  url: string
}

/** Callbacks declared like Fastify routes; `routes` goes into a route schema's `callbacks`. */
export interface CallbackRouter {
  readonly routes: readonly CallbackDefinition[]
  route: <S extends OperationSchema = OperationSchema>(options: CallbackRouteOptions<S>) => CallbackDefinition<S>
  get: MethodShorthand
  put: MethodShorthand
  post: MethodShorthand
  patch: MethodShorthand
  delete: MethodShorthand
}

export function callbackRouter (): CallbackRouter {
  const routes: CallbackDefinition[] = []
  const add = <S extends OperationSchema>(method: unknown, url: unknown, options?: CallbackOptions<S>): CallbackDefinition<S> => {
    const definition = defineCallback(method, url, options)
    routes.push(definition)
    return definition
  }
  const shorthand = (method: HttpMethod): MethodShorthand => (url, options) => add(method, url, options)
  return {
    // a frozen copy, so `routes` handed to a route schema cannot change under it
    get routes () { return Object.freeze([...routes]) },
    route: ({ method, url, ...options }) => add(method, url, options),
    get: shorthand('GET'),
    put: shorthand('PUT'),
    post: shorthand('POST'),
    patch: shorthand('PATCH'),
    delete: shorthand('DELETE')
  }
}
