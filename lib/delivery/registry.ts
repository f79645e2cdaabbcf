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

/**
 * Every sendable operation of the app by its stable key, so that any process that registers the same app finds a
 * message's definition again; and each route's callbacks by the schema object the route keeps.
 */
export interface DeliveryRegistry {
  addRoute (schema: object, callbacks: readonly SendableCallback[]): void
  byKey (key: string): RegisteredOperation | undefined
  /** The callbacks of the route whose `request.routeOptions.schema` this is. */
  ofRoute (schema: object): readonly SendableCallback[] | undefined
  /** The key of a webhook declared with fastify.webhooks. */
  webhookKey (definition: WebhookDefinition): string | undefined
}

export type DeclaredWebhooks = () => ReadonlyArray<{ key: string, definition: WebhookDefinition }>

/** `webhooks` is read again whenever a key or a webhook is not found: webhooks are declared any time before ready(). */
export function createDeliveryRegistry (webhooks: DeclaredWebhooks): DeliveryRegistry {
  const byKey = new Map<string, RegisteredOperation>()
  const byRoute = new WeakMap<object, readonly SendableCallback[]>()
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
    addRoute (schema, callbacks) {
      byRoute.set(schema, callbacks)
      for (const { key, name, definition } of callbacks) byKey.set(key, { key, name, definition })
    },
    byKey (key) {
      const known = byKey.get(key)
      if (known !== undefined) return known
      readWebhooks()
      return byKey.get(key)
    },
    ofRoute: schema => byRoute.get(schema),
    webhookKey (definition) {
      const known = webhookKeys.get(definition)
      if (known !== undefined) return known
      readWebhooks()
      return webhookKeys.get(definition)
    }
  }
}
