import { ExpressionSyntaxError } from '../util/errors.js'

/** An OpenAPI runtime expression (OpenAPI 3.0.3 / 3.1.0, "Runtime Expressions"). */
export type RuntimeExpression =
  | { type: 'url' } | { type: 'method' } | { type: 'statusCode' }
  | { type: 'request' | 'response', source: 'header' | 'query' | 'path', name: string }
  | { type: 'request' | 'response', source: 'body', pointer: string[] | undefined } // decoded reference tokens; undefined = whole body

export type BodyExpression = Extract<RuntimeExpression, { source: 'body' }>

/** A reference token that designates an array element. */
export const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/

const DEFAULT_LABEL = 'fastify-openapi-callbacks'
const NAMED_SOURCES = [
  { source: 'header', invalid: /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/u, allowed: 'a header name character (a letter, a digit or one of !#$%&\'*+-.^_`|~)' },
  { source: 'query', invalid: /[\0\u0080-\u{10FFFF}]/u, allowed: 'an ASCII character (CHAR) in the parameter name' },
  { source: 'path', invalid: /[\0\u0080-\u{10FFFF}]/u, allowed: 'an ASCII character (CHAR) in the parameter name' }
] as const

/** Parses one expression without braces (e.g. '$request.body#/id'); throws ExpressionSyntaxError(label, text, position, reason). */
export function parseExpression (text: string, label: string = DEFAULT_LABEL): RuntimeExpression {
  return parseAt(text, 0, text, label)
}

/** The canonical text of an expression. parseExpression(formatExpression(e)) deep-equals e. */
export function formatExpression (expression: RuntimeExpression): string {
  if (!('source' in expression)) return '$' + expression.type
  const prefix = `$${expression.type}.${expression.source}`
  return expression.source === 'body' ? prefix + formatPointer(expression.pointer) : `${prefix}.${expression.name}`
}

/** A key as literal text and expressions, each with the position of its `$` in the key. */
export function splitKey (key: string, label: string): Array<string | { text: string, position: number }> {
  if (key === '') throw new ExpressionSyntaxError(label, key, 0, 'expected a URL or a runtime expression, found an empty key')
  if (key.startsWith('$')) return [{ text: key, position: 0 }]
  const pieces: Array<string | { text: string, position: number }> = []
  let index = 0
  while (index < key.length) {
    const open = key.indexOf('{', index)
    const literalEnd = open === -1 ? key.length : open
    const stray = key.indexOf('}', index)
    if (stray !== -1 && stray < literalEnd) throw new ExpressionSyntaxError(label, key, stray, 'found "}" without an opening "{"')
    if (literalEnd > index) pieces.push(key.slice(index, literalEnd))
    if (open === -1) break
    const close = key.indexOf('}', open + 1)
    const nested = key.indexOf('{', open + 1)
    if (nested !== -1 && (close === -1 || nested < close)) {
      throw new ExpressionSyntaxError(label, key, nested, 'expected "}" before another "{": expressions cannot be nested')
    }
    if (close === -1) throw new ExpressionSyntaxError(label, key, open, 'found "{" without a closing "}"')
    if (close === open + 1) throw new ExpressionSyntaxError(label, key, close, 'expected a runtime expression between "{" and "}"')
    pieces.push({ text: key.slice(open + 1, close), position: open + 1 })
    index = close + 1
  }
  return pieces
}

/** Parses `text`, found at `at` in `key`, by the OpenAPI grammar. */
export function parseAt (text: string, at: number, key: string, label: string): RuntimeExpression {
  const fault = (index: number, reason: string): Error => new ExpressionSyntaxError(label, key, at + index, reason)
  if (!text.startsWith('$')) throw fault(0, 'expected "$" to start a runtime expression')
  for (const type of ['url', 'method', 'statusCode'] as const) {
    if (!text.startsWith('$' + type)) continue
    if (text.length > type.length + 1) throw fault(type.length + 1, `expected the end of the expression after "$${type}"`)
    return { type }
  }
  for (const type of ['request', 'response'] as const) {
    if (!text.startsWith('$' + type)) continue
    if (text[type.length + 1] !== '.') throw fault(type.length + 1, `expected "." after "$${type}"`)
    const start = type.length + 2
    const rest = text.slice(start)
    for (const { source, invalid, allowed } of NAMED_SOURCES) {
      if (!rest.startsWith(source + '.')) continue
      const nameAt = start + source.length + 1
      const name = text.slice(nameAt)
      if (name === '') throw fault(nameAt, `expected a name after "$${type}.${source}."`)
      const bad = invalid.exec(name)
      if (bad !== null) throw fault(nameAt + bad.index, `expected ${allowed}, found ${JSON.stringify(bad[0])}`)
      return { type, source, name }
    }
    if (!rest.startsWith('body')) throw fault(start, `expected "header.", "query.", "path." or "body" after "$${type}."`)
    const hash = start + 4
    if (text.length === hash) return { type, source: 'body', pointer: undefined }
    if (text[hash] !== '#') throw fault(hash, `expected "#" or the end of the expression after "$${type}.body"`)
    return { type, source: 'body', pointer: parsePointer(text, hash + 1, fault) }
  }
  throw fault(1, 'expected "url", "method", "statusCode", "request." or "response." after "$"')
}

/** The reference tokens of the JSON pointer that starts at `from` in `text`. */
function parsePointer (text: string, from: number, fault: (index: number, reason: string) => Error): string[] {
  const pointer = text.slice(from)
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw fault(from, 'expected "/" or the end of the expression after "#"')
  const badEscape = /~(?![01])/.exec(pointer)
  if (badEscape !== null) {
    throw fault(from + badEscape.index, 'expected "0" or "1" after "~" in the JSON pointer: write "~0" for "~" and "~1" for "/"')
  }
  return pointer.slice(1).split('/').map(decodeToken)
}

export function decodeToken (token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~')
}

export function formatPointer (pointer: readonly string[] | undefined): string {
  return pointer === undefined ? '' : '#' + pointer.map(token => '/' + token.replaceAll('~', '~0').replaceAll('/', '~1')).join('')
}
