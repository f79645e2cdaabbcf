import { defineWebhook, describeDefinition } from '../definition/definition.js'
import type { OperationSchema, WebhookDefinition, WebhookOptions } from '../definition/definition.js'
import { methodShorthands } from '../definition/methods.js'
import type { HttpMethod, MethodShorthands } from '../definition/methods.js'
import { DuplicateDefinitionError, InvalidDefinitionError, QueryMethodError } from '../util/errors.js'
import { CARRIER, convertedSchemas, titleCase, toNative } from './operation.js'
import { describeWithCallbacks } from './route-callbacks.js'
import type { DescribedOperation } from './route-callbacks.js'
import { claimDefinitionOperationId, identifier } from './registry.js'
import { refuseQuery, supportsQuery } from './swagger-decorator.js'
import { dropComponentsOnlyFor, schemaComponents } from './components.js'
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

/** The id of the shared schema that carries the webhooks' schemas through @fastify/swagger. */
export const WEBHOOKS_SCHEMA_ID = 'fastify-openapi-callbacks-webhooks'

interface DeclaredWebhook extends DescribedOperation { key: string, definition: WebhookDefinition }

export interface Webhooks {
  router: WebhookRouter
  /**
   * Webhooks belong to no route, so their schemas reach @fastify/swagger's conversion as one extra
   * shared schema, which it converts and turns into components like any other; `document` takes it out again.
   */
  carrierSchema: () => Json | undefined
  /** Puts the webhooks into a built document (3.1 and later), and takes their carrier out of every document. */
  document: (document: Json) => void
  /** Closes declarations: after ready() the document is built, so a later webhook would be missing from it. */
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
    carrierSchema () {
      const documented = declared.filter(isDocumented)
      if (documented.length === 0) return undefined
      return { $id: WEBHOOKS_SCHEMA_ID, ...toNative(WEBHOOKS_SCHEMA_ID, documented.flatMap(({ schemas }) => schemas)).responses }
    },
    document (document) {
      const { schemas: components } = schemaComponents(document)
      const carrierName = Object.entries(components).find(([, schema]) => isObject(schema) && schema[CARRIER] === WEBHOOKS_SCHEMA_ID)?.[0]
      const converted = carrierName === undefined ? undefined : components[carrierName] as Json
      if (carrierName !== undefined) delete components[carrierName]
      if (typeof document.openapi !== 'string' || document.openapi.startsWith('3.0')) {
        // @fastify/swagger copies its own `openapi.webhooks` option even into 3.0, which has no such field
        if (converted === undefined && document.webhooks === undefined) return
        const dropped = [converted, document.webhooks]
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
      const documented = declared.filter(isDocumented)
      const { schemas: all, exampled } = convertedSchemas(converted, documented.flatMap(({ schemas }) => schemas), registry.titles)
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
    seal () { sealed = true },
    declared: () => declared.map(({ key, definition }) => ({ key, definition }))
  }
}
