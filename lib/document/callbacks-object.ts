import type { Json } from '../util/json.js'

/**
 * A Callbacks map from its operations, in order: names and keys are the app's, so they are grouped in Maps and
 * become keys only through Object.fromEntries, which makes own properties even of `__proto__`.
 */
export function callbacksObject (operations: Iterable<{ name: string, key: string, method: string, operation: Json } | { name: string, reference: Json }>): Json {
  // a name holds operations by key and method, or a Reference Object in place of its Callback Object
  const names = new Map<string, Map<string, Array<[string, Json]>> | Json>()
  for (const entry of operations) {
    if ('reference' in entry) {
      names.set(entry.name, entry.reference)
      continue
    }
    const { name, key, method, operation } = entry
    const keys = names.get(name) as Map<string, Array<[string, Json]>> | undefined ?? new Map<string, Array<[string, Json]>>()
    names.set(name, keys)
    const methods = keys.get(key) ?? []
    keys.set(key, methods)
    methods.push([method, operation])
  }
  return Object.fromEntries([...names].map(([name, keys]) => [
    name,
    keys instanceof Map ? Object.fromEntries([...keys].map(([key, methods]) => [key, Object.fromEntries(methods)])) : keys
  ]))
}
