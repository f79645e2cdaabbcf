import { checkHeaderNames } from '../definition/definition-options.js'
import type { OperationDefinition } from '../definition/definition.js'
import { readableSchemas } from '../definition/schema-kind.js'
import { compileCallbackKey } from '../expression/template.js'
import { DuplicateDefinitionError, InvalidDefinitionError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'
import { callbacksObject } from './callbacks-object.js'
import { namedDefinitions } from './named-callbacks.js'
import type { NamedCallback } from './named-callbacks.js'
import { assembleOperation } from './operation.js'
import { describeOperation, titleCase } from './operation-description.js'
import type { ContainerResolver } from './operation-description.js'
import { claimDefinitionOperationId, identifier } from './registry.js'
import type { CallbackRegistry } from './registry.js'
import type { ConvertedSchemas } from './schema-carrier.js'

// Callbacks nest by definitions, and a record can be changed after a definition is made to hold the definition itself
const MAX_CALLBACK_NESTING = 32

/** The named definitions of the callbacks of an operation `depth` levels below a route's callbacks or a webhook; undefined for a raw map. */
export function nestedDefinitions (definition: OperationDefinition, label: string, depth: number): NamedCallback[] | undefined {
  // the operation and those above it are depth + 1 levels: its callbacks would be one more
  if (depth + 1 >= MAX_CALLBACK_NESTING) {
    throw new InvalidDefinitionError(label, `callbacks nest more than ${MAX_CALLBACK_NESTING} levels deep, or a definition is among its own callbacks`)
  }
  return namedDefinitions(label, definition.callbacks, 'callbacks')
}

export interface DescribedOperation {
  schemas: unknown[]
  assemble: (converted: ConvertedSchemas, openapi30: boolean) => Json
}

/**
 * A callback or webhook operation and, under it, its own callbacks, recursively: their expressions read the
 * operation's schemas, and their schemas travel after its own in the same carrier. A parameter container given as a
 * `$ref` is read through `resolveRef`, unless `containers` reads it otherwise.
 */
export function describeWithCallbacks (
  definition: OperationDefinition,
  fields: { summary: string, operationId: string },
  label: string,
  registry: CallbackRegistry,
  resolveRef: (ref: string) => unknown,
  containers: ContainerResolver = (container, key) => resolveContainer(container, key, resolveRef, label),
  depth = 0
): DescribedOperation {
  const { operationId } = fields
  const { skeleton, schemas } = describeOperation(definition, fields, containers, registry.descriptions)
  const nested = nestedCallbacks(definition, operationId, label, registry, resolveRef, depth)
  if (nested.length === 0) return { schemas, assemble: (converted, openapi30) => assembleOperation(skeleton, converted, openapi30, registry.sent) }
  return {
    schemas: [...schemas, ...nested.flatMap(({ described }) => described.schemas)],
    assemble ({ schemas: all, exampled }, openapi30) {
      const operation = assembleOperation(skeleton, { schemas: all.slice(0, schemas.length), exampled }, openapi30, registry.sent)
      let offset = schemas.length
      operation.callbacks = callbacksObject(nested.map(({ described, ...place }) => {
        const own = all.slice(offset, offset += described.schemas.length)
        return { ...place, operation: described.assemble({ schemas: own, exampled }, openapi30) }
      }))
      return operation
    }
  }
}

function nestedCallbacks (
  definition: OperationDefinition,
  operationId: string,
  label: string,
  registry: CallbackRegistry,
  resolveRef: (ref: string) => unknown,
  depth: number
): Array<{ name: string, key: string, method: string, described: DescribedOperation }> {
  if (definition.callbacks === undefined) return []
  const entries = nestedDefinitions(definition, label, depth)
  if (entries === undefined) throw new InvalidDefinitionError(label, `callbacks of a ${definition.kind} must be router.routes, a callback definition or a record of them`)
  // a zod definition's schemas are read as the JSON Schema of what the plugin sends
  const { querystring, headers, body, response } = readableSchemas(definition.schema as Json, 'output')
  const places = new Set<string>()
  return entries.flatMap(({ name, definition: nested }) => {
    const nestedLabel = `${label}, callback "${name}"`
    // checked against the callback operation's own schemas: its request is what the nested callback reads
    const template = compileCallbackKey(nested.url, { label: nestedLabel, querystring, headers, body, response: response as Record<string, unknown> | undefined, resolveRef })
    const method = nested.method.toLowerCase()
    const place = JSON.stringify([name, template.key, method])
    if (places.has(place)) throw new DuplicateDefinitionError(nestedLabel, `${nested.method} ${template.key} is declared twice under this name`)
    places.add(place)
    if (nested.hide) return []
    const nestedId = claimDefinitionOperationId(registry, nested.operationId, `${operationId}_${identifier(name)}_${method}`, nestedLabel)
    return [{ name, key: template.key, method, described: describeWithCallbacks(nested, { summary: nested.summary ?? titleCase(name), operationId: nestedId }, nestedLabel, registry, resolveRef, undefined, depth + 1) }]
  })
}

/** A parameter container given as a `$ref` to a shared schema is read through it, and checked as the definition checks its own. */
function resolveContainer (container: Json, key: string, resolveRef: (ref: string) => unknown, label: string): Json {
  if (typeof container.$ref !== 'string') return container
  const resolved = resolveRef(container.$ref)
  if (!isObject(resolved)) throw new InvalidDefinitionError(label, `parameter schema "${container.$ref}" is not a shared schema added with fastify.addSchema()`)
  if (key === 'headers' && isObject(resolved.properties)) checkHeaderNames(Object.keys(resolved.properties), fault => { throw new InvalidDefinitionError(label, fault) })
  return resolved
}
