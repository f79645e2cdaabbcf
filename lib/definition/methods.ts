/** The HTTP methods an OpenAPI operation can have, as Fastify writes them (QUERY since OpenAPI 3.2). */
export const HTTP_METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'QUERY'] as const

export type HttpMethod = typeof HTTP_METHODS[number]

/** The Path Item fields that hold an operation, in a document @fastify/swagger built. */
export const PATH_ITEM_METHODS: readonly string[] = HTTP_METHODS.map(method => method.toLowerCase())

const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS)

/** The method a string names, in any case; undefined if it names none. */
export function httpMethod (value: unknown): HttpMethod | undefined {
  const upper = typeof value === 'string' ? value.toUpperCase() : ''
  return METHODS.has(upper) ? upper as HttpMethod : undefined
}

/** The shorthands a router offers, as a Fastify instance does. */
export interface MethodShorthands<Shorthand> {
  get: Shorthand
  put: Shorthand
  post: Shorthand
  patch: Shorthand
  delete: Shorthand
}

export function methodShorthands<Shorthand> (shorthand: (method: HttpMethod) => Shorthand): MethodShorthands<Shorthand> {
  return { get: shorthand('GET'), put: shorthand('PUT'), post: shorthand('POST'), patch: shorthand('PATCH'), delete: shorthand('DELETE') }
}
