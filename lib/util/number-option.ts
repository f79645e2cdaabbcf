import { inspect } from 'node:util'

/** What a numeric option accepts. NaN and ±Infinity never pass: a comparison with NaN is false, which would switch a check off. */
export interface NumberRule {
  min: number
  max: number
  integer: boolean
}

/** The option `key` of `options` checked against `rule`, or `fallback` when absent; `fail` throws the caller's coded error. */
export function readNumber (options: Record<string, unknown>, key: string, fallback: number, rule: NumberRule, fail: (fault: string) => never): number {
  const value = options[key] === undefined ? fallback : options[key]
  const { min, max, integer } = rule
  if (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    fail(`${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${inspect(value, { depth: 0 })}`)
  }
  return value
}

/** Throws through `fail` for a key of `options` that is not among `known`. */
export function refuseUnknownKeys (options: object, known: ReadonlySet<string>, fail: (fault: string) => never): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) fail(`unknown option ${JSON.stringify(key)}`)
  }
}
