import type { CallbackDefinition, OperationDefinition, WebhookDefinition } from '../definition/definition.js'
import type { CallbackUrlTemplate } from '../expression/template.js'

/** A callback of one route, as the document side processed it: `key` is its operationId, unique in the app. */
export interface SendableCallback {
  key: string
  name: string
  definition: CallbackDefinition
  template: Pick<CallbackUrlTemplate, 'key' | 'needsResponse' | 'evaluate'>
}

export interface RegisteredOperation {
  key: string
  definition: OperationDefinition
  /** The callback's name on its route, or the webhook's name. */
  name: string
}

/** A route as `request.routeOptions` names it: its method as Fastify keeps it (a string, or the route's array) and its url. */
export interface RouteName { method: string | readonly string[], url: string | undefined }

/**
 * Every sendable operation of the app by its stable key, so that any process that registers the same app finds a
 * message's definition again; and each route's callbacks by the schema object the route keeps, and its method and
 * url, as an onRoute hook may give several routes one schema object.
 */
export interface DeliveryRegistry {
  addRoute (schema: object, route: RouteName, callbacks: readonly SendableCallback[]): void
  byKey (key: string): RegisteredOperation | undefined
  /** The callbacks of the route whose `request.routeOptions.schema` this is. */
  ofRoute (schema: object, route: RouteName): readonly SendableCallback[] | undefined
  /** The key of a webhook declared with fastify.webhooks. */
  webhookKey (definition: WebhookDefinition): string | undefined
}

export type DeclaredWebhooks = () => ReadonlyArray<{ key: string, definition: WebhookDefinition }>

/** `webhooks` is read again whenever a key or a webhook is not found: webhooks are declared any time before ready(). */
export function createDeliveryRegistry (webhooks: DeclaredWebhooks): DeliveryRegistry {
  const byKey = new Map<string, RegisteredOperation>()
  // usually one route per schema object
  const byRoute = new WeakMap<object, Array<RouteName & { callbacks: readonly SendableCallback[] }>>()
  const webhookKeys = new WeakMap<WebhookDefinition, string>()
  let webhooksRead = 0

  function readWebhooks (): void {
    const declared = webhooks()
    for (const { key, definition } of declared.slice(webhooksRead)) {
      byKey.set(key, { key, name: definition.name, definition })
      webhookKeys.set(definition, key)
    }
    webhooksRead = declared.length
  }

  return {
    addRoute (schema, { method, url }, callbacks) {
      const routes = byRoute.get(schema)
      if (routes === undefined) byRoute.set(schema, [{ method, url, callbacks }])
      else routes.push({ method, url, callbacks })
      for (const { key, name, definition } of callbacks) byKey.set(key, { key, name, definition })
    },
    byKey (key) {
      const known = byKey.get(key)
      if (known !== undefined) return known
      readWebhooks()
      return byKey.get(key)
    },
    ofRoute: (schema, { method, url }) => byRoute.get(schema)?.find(route => route.method === method && route.url === url)?.callbacks,
    webhookKey (definition) {
      const known = webhookKeys.get(definition)
      if (known !== undefined) return known
      readWebhooks()
      return webhookKeys.get(definition)
    }
  }
}
