import { isDefinition } from '../definition/definition.js'
import { checkCallbackName } from '../definition/definition-options.js'
import type { CallbackDefinition } from '../definition/definition.js'
import { InvalidDefinitionError } from '../util/errors.js'
import { isObject } from '../util/json.js'

/** A callback definition and the name it stands under. */
export interface NamedCallback { name: string, definition: CallbackDefinition }

/** The four forms `schema.callbacks` accepts, as named definitions; undefined for a raw OpenAPI map. */
export function namedDefinitions (routeLabel: string, callbacks: unknown, option = 'schema.callbacks'): NamedCallback[] | undefined {
  const fail = (fault: string): never => { throw new InvalidDefinitionError(routeLabel, fault) }
  const checked = (value: unknown, where: string): CallbackDefinition => {
    if (!isDefinition(value)) return fail(`${where} is not a callback definition: make it with callbackRouter()`)
    if (value.kind !== 'callback') return fail(`${where} is a webhook; declare webhooks with fastify.webhooks, not in ${option}`)
    return value
  }
  const unnamed = (definition: CallbackDefinition, where: string): string =>
    definition.name ?? fail(`${where} (${definition.method} ${definition.url}) has no name: give it { name } or put it in a record { name: definition }`)

  if (Array.isArray(callbacks)) {
    return callbacks.map((value, index) => {
      const definition = checked(value, `${option}[${index}]`)
      return { name: unnamed(definition, `${option}[${index}]`), definition }
    })
  }
  if (isDefinition(callbacks)) {
    const definition = checked(callbacks, option)
    return [{ name: unnamed(definition, option), definition }]
  }
  if (!isObject(callbacks)) return fail(`${option} must be router.routes, a callback definition, a record of them, or an OpenAPI callbacks map`)
  const values = Object.values(callbacks)
  const isRecord = (value: unknown): boolean => isDefinition(value) || (Array.isArray(value) && value.some(isDefinition))
  if (!values.some(isRecord)) return undefined
  return Object.entries(callbacks).flatMap(([name, value]) => {
    const list = Array.isArray(value) ? value : [value]
    return list.map((item, index) => {
      const where = `${option}.${name}${Array.isArray(value) ? `[${index}]` : ''}`
      if (name.trim() === '') fail(`${option} has a blank key ${JSON.stringify(name)}: a callback's name must be a non-empty string`)
      checkCallbackName(name, fault => fail(`${where}: ${fault}`))
      const definition = checked(item, where)
      if (definition.name !== undefined && definition.name !== name) {
        fail(`${where} is named "${definition.name}" but stands under the key "${name}"; the names must agree`)
      }
      return { name, definition }
    })
  })
}
