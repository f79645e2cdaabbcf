import { CarrierLostError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'
import { schemaComponents } from './components.js'
import { CARRIER, carriedForm, convertedSchemas } from './operation.js'
import type { ConvertedSchemas } from './operation.js'
import type { SchemaTitles } from './generated-titles.js'

/** The id of the shared schema that carries schemas through @fastify/swagger's conversion, once per document. */
export const CARRIER_SCHEMA_ID = 'fastify-openapi-callbacks-carrier'

/**
 * Schemas that belong to no single route (webhooks), or that many routes share (a definition's), reach
 * @fastify/swagger's conversion in one shared schema: it converts a shared schema once per document, where it converts
 * a route's schemas once per route. @fastify/swagger reads the shared schemas at its onReady, before the plugin reads
 * the routes at its own, so the carrier is handed over empty and filled until `seal()`, as @fastify/swagger copies it
 * only when it builds the document.
 */
export interface SchemaCarrier {
  /** What getSchemas() adds for @fastify/swagger: the carrier once something may use it, else nothing. */
  sharedSchemas: (needed: () => boolean) => Json | undefined
  /** Takes a list of schemas to convert; false when the carrier did not reach @fastify/swagger. */
  carry: (schemas: unknown[]) => boolean
  /**
   * Takes a definition's schemas (the same array on every route that uses it) to convert once, when their conversion as
   * a shared schema is the same as in a route; false when they must travel with each route's operation.
   */
  share: (schemas: unknown[]) => boolean
  /** Every list is known: the carrier gets their schemas, and the titles note them. */
  seal: (titles: SchemaTitles) => void
  /**
   * Takes the converted carrier out of a built document, and gives each carried list as converted: the same objects
   * for every operation that uses the list. `lost` names what was being documented when the carrier is missing.
   */
  take: (document: Json, titles: SchemaTitles) => FromCarrier
}

/** A carried list as @fastify/swagger converted it; `lost` names what is documented, should the carrier be missing. */
export type FromCarrier = (schemas: unknown[], lost: string) => ConvertedSchemas

export function createSchemaCarrier (): SchemaCarrier {
  const carrier: Json = { $id: CARRIER_SCHEMA_ID, [CARRIER]: CARRIER_SCHEMA_ID, allOf: [] }
  let handedOver = false
  let sealed = false
  const offsets = new Map<unknown[], number>()
  const all: unknown[] = []
  const carry = (schemas: unknown[]): boolean => {
    if (!handedOver || sealed) return false
    if (!offsets.has(schemas)) {
      offsets.set(schemas, all.length)
      all.push(...schemas)
    }
    return true
  }
  return {
    sharedSchemas (needed) {
      handedOver ||= needed()
      return handedOver ? carrier : undefined
    },
    carry,
    share: schemas => offsets.has(schemas) || (carriedForm(schemas).sharable && carry(schemas)),
    seal (titles) {
      sealed = true
      carrier.allOf = carriedForm(all).escaped
      titles.add(carrier.allOf)
    },
    take (document, titles) {
      const { schemas: components } = schemaComponents(document)
      const name = isObject(components) ? Object.keys(components).find(key => isObject(components[key]) && components[key][CARRIER] === CARRIER_SCHEMA_ID) : undefined
      const converted = name === undefined ? undefined : components[name] as Json
      if (name !== undefined) delete components[name]
      const { schemas, exampled } = converted === undefined ? { schemas: undefined, exampled: false } : convertedSchemas(converted, all, titles)
      const slices = new Map<unknown[], ConvertedSchemas>()
      return (list, lost) => {
        // a transformObject that drops components it does not know takes the carrier with them
        if (schemas === undefined) throw new CarrierLostError(lost, CARRIER_SCHEMA_ID)
        let slice = slices.get(list)
        if (slice === undefined) {
          const offset = offsets.get(list)!
          slices.set(list, slice = { schemas: schemas.slice(offset, offset + list.length), exampled, shared: true })
        }
        return slice
      }
    }
  }
}
