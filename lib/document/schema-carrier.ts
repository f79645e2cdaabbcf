import { CarrierLostError } from '../util/errors.js'
import { eachObject, isObject } from '../util/json.js'
import type { Json } from '../util/json.js'
import { schemaComponents } from './components.js'
import { escapeNames, restoreNames } from './escaped-names.js'
import type { SchemaTitles } from './generated-titles.js'
import { eachSubschema } from './subschemas.js'

/**
 * @fastify/swagger converts a callback operation's `requestBody` and `responses` with the same
 * ref resolution and schema conversion as route schemas, and drops every other field. So an
 * operation travels through it as `responses: { [CARRIER]: id, allOf: [...schemas] }`: the schemas
 * are converted in place (`allOf` is a keyword its walk follows, so nested `$id` schemas become
 * components too), and the operation is put back together from its skeleton once the document is built.
 */
export const CARRIER = 'x-fastify-openapi-callbacks'

export interface NativeOperation { responses: Json }

// @fastify/swagger's keyword for a body's or response's named examples
export const NAMED_EXAMPLES = 'x-examples'

/** How a list of schemas travels: names escaped, and which repairs its converted form can need. */
interface CarriedSchemas {
  escaped: unknown[]
  /** Some property name was escaped, so the converted schemas get their names back. */
  renamed: boolean
  /** Some object has a `$id`, `$ref` or `title`: @fastify/swagger may have written a generated title. */
  titled: boolean
  /** Some object has `examples` (or a `$ref` or `$id`, whose target may): 3.0 rewrites nested ones. */
  exampled: boolean
  /**
   * Converted the same as a shared schema as in a route: no `$id` or `$ref` (which a shared schema resolves and numbers
   * differently), no examples (which @fastify/swagger rewrites in shared schemas only) and no `definitions` (which it hoists).
   */
  sharable: boolean
}

// the keywords that a shared schema's conversion treats otherwise than a route's
const ROUTE_ONLY_KEYWORDS = ['$id', '$ref', 'examples', NAMED_EXAMPLES, 'definitions', '$defs']

// One definition's schemas are the same array for every route of one app that uses it: they are looked at once.
// Each app describes a definition anew (DescriptionMemo), so its arrays are its own.
const carriedForms = new WeakMap<unknown[], CarriedSchemas>()

export function carriedForm (schemas: unknown[]): CarriedSchemas {
  let form = carriedForms.get(schemas)
  if (form === undefined) {
    const escaped = escapeNames(schemas)
    const keys = new Set<string>()
    eachObject(schemas, node => { for (const key of Object.keys(node)) keys.add(key) })
    const referenced = keys.has('$id') || keys.has('$ref')
    form = {
      escaped,
      renamed: escaped !== schemas,
      titled: referenced || keys.has('title'),
      exampled: referenced || keys.has('examples'),
      sharable: !ROUTE_ONLY_KEYWORDS.some(keyword => keys.has(keyword))
    }
    carriedForms.set(schemas, form)
  }
  return form
}

export function toNative (id: string, schemas: unknown[]): NativeOperation {
  return { responses: { [CARRIER]: id, allOf: carriedForm(schemas).escaped } }
}

/**
 * The schemas of a carrier (a native operation's `responses`, or the webhooks' component) as @fastify/swagger
 * converted them from `original`, their names restored, with a note of which other repairs they need.
 */
export function convertedSchemas (carrier: Json, original: unknown[], titles: SchemaTitles): ConvertedSchemas {
  const form = carriedForm(original)
  const schemas = carrier.allOf as unknown[]
  if (form.renamed) restoreNames(schemas)
  // @fastify/swagger gives a nested `$id` schema its id as a title, even where it stays inline
  if (form.titled) eachSubschema({ allOf: schemas }, schema => { if (titles.isCopiedId(schema.title)) delete schema.title })
  return { schemas, exampled: form.exampled }
}

/**
 * Schemas as @fastify/swagger converted them; `exampled` unless no nested `examples` can be among them; `shared` when
 * the shared carrier converted them once for every route that uses them.
 */
export interface ConvertedSchemas { schemas: readonly unknown[], exampled: boolean, shared?: true }

/** The carrier id of an operation in a built document, if it came through this plugin. */
export function carrierId (operation: NativeOperation): string | undefined {
  const id = operation.responses[CARRIER]
  return typeof id === 'string' ? id : undefined
}

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
