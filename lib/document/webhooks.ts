import { defineWebhook, describeDefinition } from '../definition/definition.js'
import type { OperationSchema, WebhookDefinition, WebhookOptions } from '../definition/definition.js'
import { methodShorthands } from '../definition/methods.js'
import type { HttpMethod, MethodShorthands } from '../definition/methods.js'
import { DuplicateDefinitionError, InvalidDefinitionError, QueryMethodError } from '../util/errors.js'
import { titleCase } from './operation-description.js'
import { describeWithCallbacks } from './nested-callbacks.js'
import type { DescribedOperation } from './nested-callbacks.js'
import { claimDefinitionOperationId, identifier } from './registry.js'
import { refuseQuery, supportsQuery } from './swagger-decorator.js'
import { dropComponentsOnlyFor } from './components.js'
import type { FromCarrier } from './schema-carrier.js'
import type { CallbackRegistry } from './registry.js'
import { checkSecurity } from './security.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

type MethodShorthand = <S extends OperationSchema = OperationSchema>(name: string, options?: WebhookOptions<S>) => WebhookDefinition<S>

export interface WebhookRouteOptions<S extends OperationSchema = OperationSchema> extends WebhookOptions<S> {
  method: HttpMethod | Lowercase<HttpMethod>
  name: string
}

/** `fastify.webhooks`: OpenAPI 3.1 webhooks declared like routes, as FastAPI's `app.webhooks`. */
export interface WebhookRouter extends MethodShorthands<MethodShorthand> {
  readonly routes: readonly WebhookDefinition[]
  route: <S extends OperationSchema = OperationSchema>(options: WebhookRouteOptions<S>) => WebhookDefinition<S>
}

interface DeclaredWebhook extends DescribedOperation { key: string, definition: WebhookDefinition }

export interface Webhooks {
  router: WebhookRouter
  /** Some webhook is documented: its schemas need the shared carrier, as webhooks belong to no route. */
  documented: () => boolean
  /** Puts the webhooks into a built document (3.1 and later), from their schemas as the shared carrier brought them. */
  document: (document: Json, fromCarrier: FromCarrier) => void
  /**
   * Closes declarations: after ready() the document is built, so a later webhook would be missing from it. The
   * documented webhooks' schemas go into the shared carrier, if it reached @fastify/swagger.
   */
  seal: () => void
  /**
   * Every webhook declared so far, in order, with its key: its operationId, unique in the document and the same
   * in every process that runs the same app code.
   */
  declared: () => ReadonlyArray<{ key: string, definition: WebhookDefinition }>
}

// a hidden webhook is sendable, but documented nowhere
const isDocumented = ({ definition }: DeclaredWebhook): boolean => !definition.hide

export function createWebhooks (registry: CallbackRegistry, warn: (message: string) => void): Webhooks {
  const declared: DeclaredWebhook[] = []
  // the documented webhooks' schemas, in order, once sealed and carried
  let carried: unknown[] | undefined
  let sealed = false
  let warned = false

  const add = <S extends OperationSchema>(method: unknown, name: unknown, options?: WebhookOptions<S>): WebhookDefinition<S> => {
    const definition = defineWebhook(method, name, options)
    const label = describeDefinition(definition)
    if (sealed) throw new InvalidDefinitionError(label, 'webhooks must be declared before the server is ready, while the document can still include them')
    if (declared.some(({ definition: other }) => other.name === definition.name && other.method === definition.method)) {
      throw new DuplicateDefinitionError(label, 'this name and method are declared twice')
    }
    const operationId = claimDefinitionOperationId(registry, definition.operationId, `webhook_${identifier(definition.name)}_${definition.method.toLowerCase()}`, label)
    // a webhook belongs to no route: there are no shared schemas to resolve a `$ref` against yet
    const { schemas, assemble } = describeWithCallbacks(definition, { summary: definition.summary ?? titleCase(definition.name), operationId }, label, registry, () => undefined, container => {
      if (typeof container.$ref === 'string') throw new InvalidDefinitionError(label, 'parameter schemas of a webhook must be object schemas, not $refs')
      return container
    })
    registry.titles.add(schemas)
    declared.push({ key: operationId, definition, schemas, assemble })
    return definition
  }
  const router: WebhookRouter = {
    get routes () { return Object.freeze(declared.map(({ definition }) => definition)) },
    route: ({ method, name, ...options }) => add(method, name, options),
    ...methodShorthands((method): MethodShorthand => (name, options) => add(method, name, options))
  }

  return {
    router,
    documented: () => declared.some(isDocumented),
    document (document, fromCarrier) {
      const documented = declared.filter(isDocumented)
      const converted = carried === undefined ? undefined : fromCarrier(carried, documented.map(({ definition }) => describeDefinition(definition)).join(', '))
      if (typeof document.openapi !== 'string' || document.openapi.startsWith('3.0')) {
        // @fastify/swagger copies its own `openapi.webhooks` option even into 3.0, which has no such field
        if (converted === undefined && document.webhooks === undefined) return
        const dropped = [converted?.schemas, document.webhooks]
        delete document.webhooks
        dropComponentsOnlyFor(document, dropped)
        if (!warned) {
          warned = true
          warn('OpenAPI 3.0 and Swagger 2.0 cannot express webhooks, so they are left out of this document. Set @fastify/swagger\'s `openapi.openapi` to \'3.1.0\' to document them.')
        }
        return
      }
      if (converted === undefined) return
      // webhook names are the app's: a Map, then Object.fromEntries, so that no name (`__proto__`, `constructor`) reaches a prototype
      const webhooks = new Map(Object.entries(isObject(document.webhooks) ? document.webhooks : {}))
      const { schemas: all, exampled } = converted
      let offset = 0
      for (const { definition, schemas, assemble } of documented) {
        const own = { schemas: all.slice(offset, offset + schemas.length), exampled }
        offset += schemas.length
        const method = definition.method.toLowerCase()
        if (method === 'query' && !supportsQuery(document.openapi)) throw new QueryMethodError(describeDefinition(definition), 'this webhook')
        const pathItem = webhooks.get(definition.name)
        if (isObject(pathItem) && Object.hasOwn(pathItem, method)) {
          throw new DuplicateDefinitionError(describeDefinition(definition), 'is also given in @fastify/swagger\'s `openapi.webhooks` option; declare it once')
        }
        const operation = assemble(own, false)
        checkSecurity(operation, document, describeDefinition(definition))
        if (isObject(operation.callbacks) && !supportsQuery(document.openapi)) refuseQuery(operation.callbacks, describeDefinition(definition))
        webhooks.set(definition.name, { ...(isObject(pathItem) ? pathItem : {}), [method]: operation })
      }
      document.webhooks = Object.fromEntries(webhooks)
    },
    seal () {
      sealed = true
      const documented = declared.filter(isDocumented)
      const schemas = documented.flatMap(({ schemas }) => schemas)
      if (documented.length > 0 && registry.carrier.carry(schemas)) carried = schemas
    },
    declared: () => declared.map(({ key, definition }) => ({ key, definition }))
  }
}
