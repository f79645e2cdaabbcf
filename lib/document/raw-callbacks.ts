import { checkCallbackName } from '../definition/definition-options.js'
import { httpMethod } from '../definition/methods.js'
import type { ParentRoute } from '../expression/template.js'
import { InvalidDefinitionError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'
import { callbackReference } from './callback-components.js'
import { describeRawOperation } from './raw-operation.js'
import { claimOperationId } from './registry.js'
import type { CallbackRegistry, CarriedOperation } from './registry.js'
import { routeTemplate } from './route-template.js'

/** Takes one operation of a route's callbacks to carry through @fastify/swagger. */
export type Carry = (name: string, key: string, method: string, label: string, schemas: unknown[], assemble: CarriedOperation['assemble'], share?: string) => void

/** Takes a Reference Object the app wrote in place of a Callback Object. */
export type Refer = (name: string, label: string, reference: Json) => void

/** A raw OpenAPI callbacks map is kept as it is, but checked, so that it cannot turn into garbage. */
export function processRawMap (
  callbacks: Json,
  routeSchema: Json,
  parent: ParentRoute,
  registry: CallbackRegistry,
  carry: Carry,
  refer: Refer
): Set<string> {
  const names = new Set<string>()
  for (const [name, pathItems] of Object.entries(record(callbacks, parent.label, 'schema.callbacks'))) {
    const label = `${parent.label}, callback "${name}"`
    checkCallbackName(name, fault => { throw new InvalidDefinitionError(label, fault) })
    // a Reference Object to a Callback Object of the document's components, checked once the document is built
    const reference = callbackReference(pathItems, label)
    if (reference !== undefined) {
      refer(name, label, reference)
      continue
    }
    names.add(name)
    if (!isObject(pathItems)) throw new InvalidDefinitionError(label, 'a callback must map runtime expressions to path items')
    for (const [key, pathItem] of Object.entries(record(pathItems, label, 'the callback'))) {
      const template = routeTemplate(registry.templates, key, routeSchema, () => ({ ...parent, label }))
      if (!isObject(pathItem)) throw new InvalidDefinitionError(label, `the path item of "${key}" must be an object of operations`)
      for (const [method, operation] of Object.entries(record(pathItem, label, `the path item of "${key}"`))) {
        if (httpMethod(method)?.toLowerCase() !== method) {
          throw new InvalidDefinitionError(label, `"${method}" under "${key}" is not a lower-case HTTP method; @fastify/swagger would turn it into an operation. Use callbackRouter() for summaries and parameters`)
        }
        if (!isObject(operation)) throw new InvalidDefinitionError(label, `${method} under "${key}" must be an operation object`)
        const { requestBody, responses } = operation
        if (requestBody !== undefined && !isObject(requestBody)) throw new InvalidDefinitionError(label, `${method} under "${key}": requestBody must be an object`)
        if (responses !== undefined && !(isObject(responses) && Object.values(responses).every(isObject))) {
          throw new InvalidDefinitionError(label, `${method} under "${key}": responses must map status codes to Response Objects`)
        }
        // an operation object several routes share is described once, so that its schemas are converted once
        let described = registry.descriptions.rawOperations.get(operation)
        if (described === undefined) registry.descriptions.rawOperations.set(operation, described = describeRawOperation(record(operation, label, `${method} under "${key}"`)))
        const { schemas, assemble } = described
        carry(name, template.key, method, label, schemas, (converted, openapi30) => assemble(converted.schemas, openapi30))
        if (typeof operation.operationId === 'string') claimOperationId(registry, operation.operationId, label)
      }
    }
  }
  return names
}

/**
 * A map whose keys are names from the app, checked to be a plain object: in an object literal, `__proto__: value`
 * sets the prototype instead of adding a key, and the entries would silently be lost.
 */
function record (value: Json, label: string, where: string): Json {
  const prototype = Object.getPrototypeOf(value) as object | null
  // Object.prototype of this realm or another has no prototype itself
  if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
    throw new InvalidDefinitionError(label, `${where} has a prototype of its own: an object literal's "__proto__: value" sets the prototype; write ["__proto__"]: value to use the name __proto__`)
  }
  return value
}
