import type { FastifyInstance } from 'fastify'
import { PATH_ITEM_METHODS } from '../definition/methods.js'
import { stringify } from 'yaml'
import { QueryMethodError, SwaggerDecoratorError, UnprocessedRouteError } from '../util/errors.js'
import { callbacksObject } from './callbacks-object.js'
import { carrierId, convertedSchemas } from './schema-carrier.js'
import { dropGeneratedTitles } from './components.js'
import { resolveReferences, shareCallbacks } from './callback-components.js'
import type { ReferencedCallback, SharedCandidates } from './callback-components.js'
import type { CallbackRegistry } from './registry.js'
import type { FromCarrier, NativeOperation } from './schema-carrier.js'
import { checkSecurity } from './security.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

// the Path Item fields, as an error names a route's method
const UPPER_CASE = Object.fromEntries(PATH_ITEM_METHODS.map(method => [method, method.toUpperCase()])) as Record<string, string>

type SwaggerFunction = (options?: { yaml?: boolean }) => unknown

export interface DocumentHooks {
  registry: CallbackRegistry
  /** Adds what the plugin puts beside the paths (webhooks), whatever the document's version, from their converted schemas. */
  extend: (document: Json, fromCarrier: FromCarrier) => void
  /** Called once per document that cannot express callbacks (Swagger 2.0). */
  unsupported: (document: Json) => void
}

/**
 * The document comes out of @fastify/swagger's decorator, so that is where it is completed: every
 * caller (app.swagger(), YAML, @fastify/swagger-ui's /json and /yaml) gets the same complete operations.
 * The user's `transform` and `transformObject` still run inside @fastify/swagger, before this step.
 */
export function completeSwaggerDecorator (fastify: FastifyInstance, decorator: string, hooks: DocumentHooks): SwaggerFunction {
  const instance = fastify as unknown as Record<string, unknown>
  const original = instance[decorator]
  if (typeof original !== 'function') {
    throw new SwaggerDecoratorError(`@fastify/swagger's decorator "${decorator}" was not found: register @fastify/swagger before this plugin, and give this plugin the same \`decorator\` option you gave @fastify/swagger`)
  }
  const completed = new WeakSet<object>()
  const yamlOf = new WeakMap<object, string>()
  const swagger: SwaggerFunction = function (this: unknown, options) {
    const document = (original as SwaggerFunction).call(this) as Json
    if (!completed.has(document)) {
      completeDocument(document, hooks)
      completed.add(document)
    }
    if (options?.yaml !== true) return document
    let yaml = yamlOf.get(document)
    if (yaml === undefined) {
      // @fastify/swagger's options, and no anchors: an object the app gives several routes (a raw map's parameters)
      // is written out in each place, as readers that do not resolve YAML aliases expect
      yaml = stringify(document, { strict: false, aliasDuplicateObjects: false })
      yamlOf.set(document, yaml)
    }
    return yaml
  }
  instance[decorator] = swagger
  return swagger
}

function completeDocument (document: Json, hooks: DocumentHooks): void {
  const { registry } = hooks
  // out of the components first, whatever the version: the carrier is the plugin's, not the app's
  const fromCarrier = registry.carrier.take(document, registry.titles)
  if (typeof document.openapi === 'string') {
    const { openapi } = document
    const openapi30 = openapi.startsWith('3.0')
    const query = supportsQuery(openapi)
    const shared: SharedCandidates[] = []
    const references: ReferencedCallback[] = []
    const complete = (operation: unknown, method: string, path: string): void => {
      if (isObject(operation) && isObject(operation.callbacks)) {
        const completed = completeCallbacks(operation.callbacks, document, `${method} ${path}`, openapi30, registry, fromCarrier)
        operation.callbacks = completed.callbacks
        if (!query) refuseQuery(operation.callbacks as Json, `route ${method} ${path}`)
        references.push(...completed.references)
        if (completed.shares.size > 0) shared.push({ operation, shares: completed.shares })
      }
    }
    const paths = document.paths as Json
    for (const path of Object.keys(paths)) {
      const pathItem = paths[path] as Json
      for (const method of PATH_ITEM_METHODS) {
        const operation = pathItem[method]
        // @fastify/swagger keeps its own copy of an exposed HEAD twin's schema, made before this plugin saw it
        if (method === 'head' && isObject(operation)) delete operation.callbacks
        complete(operation, UPPER_CASE[method]!, path)
      }
      // since OpenAPI 3.2, @fastify/swagger puts a method that is no Path Item field (Fastify's addHttpMethod) under additionalOperations
      const { additionalOperations } = pathItem
      if (isObject(additionalOperations)) {
        for (const [method, operation] of Object.entries(additionalOperations)) complete(operation, method, path)
      }
    }
    shareCallbacks(document, shared)
    // after sharing: a `$ref` may name a Callback Object the plugin shares
    resolveReferences(document, references)
  } else {
    hooks.unsupported(document)
  }
  hooks.extend(document, fromCarrier)
  dropGeneratedTitles(document, registry.titles)
}

/** The QUERY method is a Path Item field since OpenAPI 3.2.0. */
export function supportsQuery (openapi: string): boolean {
  return !/^3\.[01]\./.test(openapi)
}

/** A callback with the QUERY method, at any depth, fails the build of a document older than 3.2: it would be invalid. */
export function refuseQuery (callbacks: Json, routeLabel: string): void {
  const pending: Array<[callbacks: Json, label: string]> = [[callbacks, routeLabel]]
  while (pending.length > 0) {
    const [map, label] = pending.pop()!
    for (const [name, pathItems] of Object.entries(map)) {
      const callbackLabel = `${label}, callback "${name}"`
      for (const [key, pathItem] of Object.entries(pathItems as Json)) {
        if (Object.hasOwn(pathItem as Json, 'query')) throw new QueryMethodError(callbackLabel, `QUERY ${key}`)
        for (const operation of Object.values(pathItem as Json)) {
          if (isObject(operation) && isObject(operation.callbacks)) pending.push([operation.callbacks, callbackLabel])
        }
      }
    }
  }
}

/** The route's callbacks with their real names, each operation complete, from the carriers @fastify/swagger converted. */
function completeCallbacks (
  callbacks: Json,
  document: Json,
  routeLabel: string,
  openapi30: boolean,
  registry: CallbackRegistry,
  fromCarrier: FromCarrier
): { callbacks: Json, shares: Map<string, string>, references: ReferencedCallback[] } {
  const operations: Parameters<typeof callbacksObject>[0] & unknown[] = []
  const shares = new Map<string, string>()
  const references: ReferencedCallback[] = []
  for (const pathItems of Object.values(callbacks)) {
    for (const pathItem of Object.values(pathItems as Json)) {
      // @fastify/swagger turns every operation it is given into { requestBody?, responses }
      for (const native of Object.values(pathItem as Json) as NativeOperation[]) {
        const carried = registry.carried.get(carrierId(native) ?? '')
        if (carried === undefined) {
          throw new UnprocessedRouteError(routeLabel, 'Register fastify-openapi-callbacks right after @fastify/swagger, before any route, and in the same context or a parent of the routes that declare callbacks.')
        }
        const travelled = convertedSchemas(native.responses, carried.schemas, registry.titles)
        let offset = 0
        for (const { name, key, method, label, schemas, viaCarrier, assemble, reference, share } of carried.operations) {
          // each operation's schemas: from the shared carrier, or its part of the route's
          const converted = viaCarrier ? fromCarrier(schemas, label) : { schemas: travelled.schemas.slice(offset, offset += schemas.length), exampled: travelled.exampled }
          const operation = assemble(converted, openapi30)
          if (reference !== undefined) {
            operations.push({ name, reference: operation })
            references.push({ label, ...reference })
            continue
          }
          checkSecurity(operation, document, label)
          operations.push({ name, key, method, operation })
          if (share !== undefined) shares.set(name, share)
        }
      }
    }
  }
  return { callbacks: callbacksObject(operations), shares, references }
}
