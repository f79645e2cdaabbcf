import { DuplicateDefinitionError } from '../util/errors.js'
import { createDescriptionMemo } from './operation-description.js'
import type { DescriptionMemo } from './operation-description.js'
import type { SentHeaders } from './signature.js'
import type { Json } from '../util/json.js'
import { createSchemaTitles } from './generated-titles.js'
import type { SchemaTitles } from './generated-titles.js'
import { identityMemo } from '../util/identity-memo.js'
import type { IdentityMemo } from '../util/identity-memo.js'
import type { CallbackUrlTemplate } from '../expression/template.js'
import { createSchemaCarrier } from './schema-carrier.js'
import type { ConvertedSchemas, SchemaCarrier } from './schema-carrier.js'

/**
 * A route's callback operations, carried through @fastify/swagger by one carrier: the schemas that travel with the
 * route (`schemas`, each operation's in turn) and the operations, in order.
 */
export interface CarriedRoute {
  operations: CarriedOperation[]
  /** The schemas of the operations not `viaCarrier`, one after the other. */
  schemas: unknown[]
}

/** A callback operation of a route: where it goes in the document, and how it is put back together. */
export interface CarriedOperation {
  /** The callback's name, its expression key and the method field (lower case), exactly as declared. */
  name: string
  key: string
  method: string
  /** Names the route and the callback, for errors found when the document is built. */
  label: string
  /** The schemas @fastify/swagger converts for the operation. */
  schemas: unknown[]
  /** The schemas travel in the shared carrier, converted once for every route that has them, not in the route's carrier. */
  viaCarrier: boolean
  /** The complete Operation, from the schemas as @fastify/swagger converted them. */
  assemble: (converted: ConvertedSchemas, openapi30: boolean) => Json
  /** A Reference Object the app wrote in place of this callback: put in the document as it is, once it resolves there. */
  reference?: { ref: string, checkKey: (key: string) => void }
  /** With `document.sharedCallbacks`: the same for every route whose Callback Object under this name is documented identically. */
  share?: string
}

/** State shared by every route of one plugin instance. */
export interface CallbackRegistry {
  operationIds: Map<string, string>
  carried: Map<string, CarriedRoute>
  /** The headers the plugin sends by itself, as every callback and webhook operation documents them. */
  sent: SentHeaders
  /** `document.sharedCallbacks`, and a number for each definition, in the order routes first use them. */
  sharing: { enabled: boolean, definitions: WeakMap<object, number>, next: number }
  /** What the schemas @fastify/swagger converts say about their titles. */
  titles: SchemaTitles
  /** Callback URL templates by the key and the route's schema objects, as routes share them; one app's, as `descriptions`. */
  templates: IdentityMemo<CallbackUrlTemplate>
  descriptions: DescriptionMemo
  /** The schemas that travel with a route, by the arrays of its operations' schemas. */
  joinedSchemas: IdentityMemo<unknown[]>
  carrier: SchemaCarrier
}

/** An operationId-safe form of a name or path. */
export function identifier (text: string): string {
  return text.replace(/[\W_]+/g, '_').replace(/^_+|_+$/g, '')
}

/** Claims an operationId for the whole document; a second claim is a startup error naming both. */
export function claimOperationId (registry: CallbackRegistry, operationId: string, owner: string): string {
  const previous = registry.operationIds.get(operationId)
  if (previous !== undefined) {
    throw new DuplicateDefinitionError(owner, `operationId "${operationId}" is already used by ${previous}; operationIds must be unique in the document`)
  }
  registry.operationIds.set(operationId, owner)
  return operationId
}

/** Registers a route's operations to carry, and gives the carrier id that brings them back. */
export function carryRoute (registry: CallbackRegistry, route: CarriedRoute): string {
  const id = `callback-${registry.carried.size}`
  registry.carried.set(id, route)
  return id
}

/**
 * Claims the operationId the app gave, as it is; without one, the id made from names, which two names can share
 * ('a-b' and 'a_b'): the first keeps it, the next get `_2`, `_3`, ... in the order the app declares them, so the
 * same app code gives the same ids.
 */
export function claimDefinitionOperationId (registry: CallbackRegistry, given: string | undefined, generated: string, owner: string): string {
  if (given !== undefined) return claimOperationId(registry, given, owner)
  let operationId = generated
  for (let suffix = 2; registry.operationIds.has(operationId); suffix++) operationId = `${generated}_${suffix}`
  registry.operationIds.set(operationId, owner)
  return operationId
}

export function createRegistry (sent: SentHeaders, sharedCallbacks = false): CallbackRegistry {
  return { operationIds: new Map(), carried: new Map(), sent, sharing: { enabled: sharedCallbacks, definitions: new WeakMap(), next: 0 }, titles: createSchemaTitles(), templates: identityMemo(), descriptions: createDescriptionMemo(), joinedSchemas: identityMemo(), carrier: createSchemaCarrier() }
}
