import { inspect } from 'node:util'

/**
 * One checker for every options object: each option is declared once, with its type, bounds and default, and
 * `readOptions` refuses what does not fit, at any depth, with the caller's coded error. Options are read only as own
 * properties, so an object's prototype (polluted, or a class's) cannot supply one.
 */

/** Throws the options object's own coded error with the fault, which starts with the option's path. */
export type Fail = (fault: string) => never

/** How one option is read: `read` gets the given value (undefined when absent) and returns the normalised one. */
export interface OptionRule<T> {
  read: (value: unknown, path: string, fail: Fail) => T
  /** A nested group's own options: where an unknown key one level up may belong. */
  fields?: Fields
}

export type Fields = Readonly<Record<string, OptionRule<unknown>>>

/** What `group(fields)` gives: each option's normalised value. */
export type Normalised<F extends Fields> = { [K in keyof F]: F[K] extends OptionRule<infer T> ? T : never }

/** The longest wait a Node timer keeps: setTimeout fires at once for a longer one. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

const shown = (value: unknown): string => inspect(value, { depth: 0, breakLength: Infinity })

/** Fails with `path must be expected, not value`. */
export function refuse (path: string, expected: string, value: unknown, fail: Fail): never {
  fail(`${path} must be ${expected}, not ${shown(value)}`)
}

/** A rule that checks a present value with `valid` and gives `fallback` for an absent one. */
export function custom<T> (expected: string, valid: (value: unknown) => boolean): OptionRule<T | undefined>
export function custom<T> (expected: string, valid: (value: unknown) => boolean, fallback: T): OptionRule<T>
export function custom<T> (expected: string, valid: (value: unknown) => boolean, fallback?: T): OptionRule<T | undefined> {
  return {
    read: (value, path, fail) => {
      if (value === undefined) return fallback
      if (!valid(value)) refuse(path, expected, value, fail)
      return value as T
    }
  }
}

/** An option that must be given. */
export function required<T> (expected: string, valid: (value: unknown) => boolean): OptionRule<T> {
  return {
    read: (value, path, fail) => {
      if (!valid(value)) refuse(path, expected, value, fail)
      return value as T
    }
  }
}

export interface NumberBounds {
  min: number
  max: number
  integer?: boolean
}

/** A number within [min, max]. NaN and ±Infinity fail (a comparison with NaN is false, which would switch a check off). */
export function number (fallback: number, bounds: NumberBounds): OptionRule<number>
export function number (fallback: undefined, bounds: NumberBounds): OptionRule<number | undefined>
export function number (fallback: number | undefined, { min, max, integer = false }: NumberBounds): OptionRule<number | undefined> {
  return custom<number | undefined>(`${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    value => typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value)), fallback)
}

/** Milliseconds that a timer waits: at most MAX_TIMER_DELAY, beyond which Node fires at once. */
export function duration (fallback: number, { min = 1, integer = true }: { min?: number, integer?: boolean } = {}): OptionRule<number> {
  return custom(`${integer ? 'an integer' : 'a number'} of milliseconds from ${min} to ${MAX_TIMER_DELAY} (the longest timer)`,
    value => typeof value === 'number' && value >= min && value <= MAX_TIMER_DELAY && (!integer || Number.isInteger(value)), fallback)
}

export function boolean (fallback: boolean): OptionRule<boolean> {
  return custom('a boolean', value => typeof value === 'boolean', fallback)
}

/** A string matching `pattern`, described by `expected` ("a non-empty string of …"). */
export function string (fallback: string, pattern: RegExp, expected: string): OptionRule<string> {
  return custom(expected, value => typeof value === 'string' && pattern.test(value), fallback)
}

/** An optional function (a hook, a resolver). */
export function fn<T extends (...args: never[]) => unknown> (): OptionRule<T | undefined> {
  return custom('a function', value => typeof value === 'function')
}

/** One of the given strings. */
export function oneOf<const T extends string> (fallback: T, values: readonly T[]): OptionRule<T> {
  return custom(`one of ${values.map(shown).join(', ')}`, value => values.includes(value as T), fallback)
}

/** An object with the given methods, as an engine or a store: kept as given. `like` names such objects. */
export function implementing<T> (methods: readonly string[], like = ''): OptionRule<T | undefined> {
  return custom(`an object implementing ${methods.join(', ')}${like}`, value => typeof value === 'object' && value !== null &&
    methods.every(method => typeof (value as Record<string, unknown>)[method] === 'function'))
}

/** An array of `item`s (each checked at `path[index]`), copied; `minLength` 1 refuses an empty one. */
export function arrayOf<T> (item: OptionRule<T | undefined>, fallback: readonly T[], { minLength = 0, expected }: { minLength?: number, expected: string }): OptionRule<T[]> {
  return {
    read: (value, path, fail) => {
      if (value === undefined) return [...fallback]
      if (!Array.isArray(value) || value.length < minLength) refuse(path, expected, value, fail)
      return value.map((element, index) => {
        if (element === undefined) refuse(`${path}[${index}]`, expected, element, fail)
        return item.read(element, `${path}[${index}]`, fail) as T
      })
    }
  }
}

/**
 * A nested options object: each of `fields` read at `path.key`, unknown keys refused. Absent, it is read as `{}`, so
 * its defaults fill in. Adding a group of options is one `group({ … })` among its parent's fields. `fail` gives the
 * group its own coded error (the `delivery` option's, under the plugin's); `ignored` are keys that others own
 * (Fastify's register options), accepted and left out.
 */
export function group<const F extends Fields> (fields: F, { fail: ownFail, ignored }: { fail?: Fail, ignored?: readonly string[] } = {}): OptionRule<Normalised<F>> & { fields: F } {
  return {
    fields,
    read: (value, path, fail) => readGroup(value === undefined ? {} : value, fields, path, ownFail ?? fail, ignored)
  }
}

/** Reads `options` against a `group` once, failing closed; the result is a plain object of every field, defaults filled in. */
export function readOptions<T> (options: unknown, rule: OptionRule<T>, fail: Fail): T {
  return rule.read(options, '', fail)
}

function readGroup<F extends Fields> (value: unknown, fields: F, path: string, fail: Fail, ignored: readonly string[] = []): Normalised<F> {
  const where = path === '' ? 'the options' : path
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(where, 'an object', value, fail)
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(fields, key) && !ignored.includes(key)) fail(unknownKey(fields, path, key))
  }
  const normalised: Record<string, unknown> = {}
  for (const [key, rule] of Object.entries(fields)) {
    normalised[key] = rule.read(Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined, path === '' ? key : `${path}.${key}`, fail)
  }
  return normalised as Normalised<F>
}

function unknownKey (fields: Fields, path: string, key: string): string {
  const at = (name: string): string => path === '' ? name : `${path}.${name}`
  const owner = Object.entries(fields).find(([, rule]) => rule.fields !== undefined && Object.hasOwn(rule.fields, key))
  const hint = owner === undefined ? `${path === '' ? 'the options take' : `${path} takes`} ${Object.keys(fields).join(', ')}` : `did you mean ${at(`${owner[0]}.${key}`)}?`
  return `unknown option ${JSON.stringify(at(key))}: ${hint}`
}
