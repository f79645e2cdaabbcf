import { InvalidDefinitionError, UnresolvedCallbackRefError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

// a component's name, as OpenAPI 3.x allows it; nothing in it needs escaping in a JSON Pointer
const COMPONENT_NAME = /^[a-zA-Z0-9._-]+$/
const PREFIX = '#/components/callbacks/'
const REFERENCE_FIELDS = new Set(['$ref', 'summary', 'description'])

/** A Reference Object given as a callback, checked where it is written; undefined for anything else. */
export function callbackReference (value: unknown, label: string): Json | undefined {
  if (!isObject(value) || typeof value.$ref !== 'string') return undefined
  if (componentName(value.$ref) === undefined) throw new UnresolvedCallbackRefError(label, value.$ref, `is not a Callback Object of this document: ${POINTER}`)
  for (const [field, text] of Object.entries(value)) {
    if (!REFERENCE_FIELDS.has(field)) throw new InvalidDefinitionError(label, `a Reference Object takes only $ref, summary and description, not "${field}"`)
    if (typeof text !== 'string') throw new InvalidDefinitionError(label, `the Reference Object's ${field} must be a string`)
  }
  return value
}

const POINTER = `write "${PREFIX}<name>", the name made of A-Z, a-z, 0-9, ".", "-" and "_"`

function componentName (ref: string): string | undefined {
  const name = ref.slice(PREFIX.length)
  return ref.startsWith(PREFIX) && COMPONENT_NAME.test(name) ? name : undefined
}

/** The document's Callback Objects by name: @fastify/swagger's `openapi.components.callbacks`, and those the plugin shares. */
function callbackComponents (document: Json): Json {
  // @fastify/swagger always writes `components` into an OpenAPI document
  const { callbacks } = document.components as Json
  return isObject(callbacks) ? callbacks : {}
}

/** A route's `$ref`ed callback, to check once the document is built. */
export interface ReferencedCallback {
  label: string
  ref: string
  /** Checks an expression key against the route, as a raw map's keys are checked. */
  checkKey: (key: string) => void
}

/**
 * Every `$ref` must reach a Callback Object of the document, through other `$ref`s if need be, and its expressions
 * must be ones each referring route can fill, as a raw map's would.
 */
export function resolveReferences (document: Json, references: readonly ReferencedCallback[]): void {
  const components = callbackComponents(document)
  for (const { label, ref, checkKey } of references) {
    const seen = new Set<string>()
    let component: unknown = { $ref: ref }
    while (isObject(component) && typeof component.$ref === 'string') {
      const name = componentName(component.$ref)
      if (name === undefined) throw new UnresolvedCallbackRefError(label, ref, `reaches "${component.$ref}", which is not a Callback Object of this document: ${POINTER}`)
      if (seen.has(name)) throw new UnresolvedCallbackRefError(label, ref, 'leads to a cycle of $refs under components.callbacks')
      seen.add(name)
      if (!Object.hasOwn(components, name)) {
        throw new UnresolvedCallbackRefError(label, ref, `reaches "${PREFIX}${name}", which the document does not have: declare it in @fastify/swagger's \`openapi.components.callbacks\``)
      }
      component = components[name]
    }
    if (!isObject(component)) throw new UnresolvedCallbackRefError(label, ref, 'does not reach a Callback Object, which maps runtime expressions to Path Items')
    for (const key of Object.keys(component)) checkKey(key)
  }
}

/** The Callback Objects of one operation, and the share key of each name that can be shared. */
export interface SharedCandidates {
  /** The operation whose `callbacks` may be replaced by `$ref`s. */
  operation: Json
  shares: ReadonlyMap<string, string>
}

/**
 * `document.sharedCallbacks`: a Callback Object that two or more operations of this document document identically
 * goes once into `components.callbacks`, in the order the document first uses it, and each operation `$ref`s it.
 * One that a single operation uses stays inline, as without the option.
 */
export function shareCallbacks (document: Json, candidates: readonly SharedCandidates[]): void {
  const uses = new Map<string, number>()
  for (const { shares } of candidates) {
    for (const share of shares.values()) uses.set(share, (uses.get(share) ?? 0) + 1)
  }
  const existing = callbackComponents(document)
  const taken = new Set(Object.keys(existing))
  // Maps, then Object.fromEntries: a name may be `__proto__`
  const added = new Map<string, Json>()
  const refs = new Map<string, string>()
  for (const { operation, shares } of candidates) {
    const callbacks = operation.callbacks as Json
    operation.callbacks = Object.fromEntries(Object.entries(callbacks).map(([name, callback]) => {
      const share = shares.get(name)
      if (share === undefined || uses.get(share)! < 2) return [name, callback]
      let ref = refs.get(share)
      if (ref === undefined) {
        const base = name.replace(/[^a-zA-Z0-9._-]/g, '_')
        let component = base
        for (let suffix = 2; taken.has(component); suffix++) component = `${base}_${suffix}`
        taken.add(component)
        added.set(component, callback as Json)
        refs.set(share, ref = `${PREFIX}${component}`)
      }
      return [name, { $ref: ref }]
    }))
  }
  if (added.size === 0) return
  // a new object: @fastify/swagger's is the app's own `openapi.components.callbacks`
  (document.components as Json).callbacks = Object.fromEntries([...Object.entries(existing), ...added])
}
