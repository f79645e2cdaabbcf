/**
 * Values remembered by a list of inputs compared by identity (objects) or value (strings, undefined): a chain of
 * maps, weak where the input is an object, so that nothing here keeps a schema alive.
 */
export interface IdentityMemo<V> {
  get: (inputs: readonly unknown[]) => V | undefined
  set: (inputs: readonly unknown[], value: V) => void
}

interface Level { objects: WeakMap<object, Level>, values: Map<unknown, Level>, value?: unknown }

const level = (): Level => ({ objects: new WeakMap(), values: new Map() })

export function identityMemo<V> (): IdentityMemo<V> {
  const root = level()
  const step = (from: Level, input: unknown, create: boolean): Level | undefined => {
    const isObject = (typeof input === 'object' && input !== null) || typeof input === 'function'
    const map = (isObject ? from.objects : from.values) as Map<unknown, Level>
    let next = map.get(input)
    if (next === undefined && create) map.set(input, next = level())
    return next
  }
  return {
    get (inputs) {
      let at: Level | undefined = root
      for (const input of inputs) {
        at = step(at, input, false)
        if (at === undefined) return undefined
      }
      return at.value as V | undefined
    },
    set (inputs, value) {
      let at = root
      for (const input of inputs) at = step(at, input, true)!
      at.value = value
    }
  }
}
