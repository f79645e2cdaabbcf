// What a prototype-pollution check compares: every own property of the built-ins a name could reach.
const OWNERS: ReadonlyArray<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Object', Object],
  ['Function.prototype', Function.prototype],
  ['Array.prototype', Array.prototype],
  ['String.prototype', String.prototype]
]

export type BuiltinsSnapshot = ReadonlyMap<string, unknown>

export function snapshotBuiltins (): BuiltinsSnapshot {
  const snapshot = new Map<string, unknown>()
  for (const [owner, object] of OWNERS) {
    for (const key of Reflect.ownKeys(object)) {
      const descriptor = Object.getOwnPropertyDescriptor(object, key)!
      snapshot.set(`${owner}.${String(key)}`, descriptor.get ?? descriptor.set ?? descriptor.value)
    }
  }
  snapshot.set('Object.prototype\'s prototype', Object.getPrototypeOf(Object.prototype))
  return snapshot
}

/** The built-in properties added, removed or changed since the snapshot. */
export function changedBuiltins (before: BuiltinsSnapshot): string[] {
  const after = snapshotBuiltins()
  const names = new Set([...before.keys(), ...after.keys()])
  return [...names].filter(name => !Object.is(before.get(name), after.get(name)) || before.has(name) !== after.has(name))
}
