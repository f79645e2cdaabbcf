// An OpenAPI request validator that owes nothing to the plugin: the document dereferenced by
// @seriousme/openapi-schema-validator, each parameter and the body checked by a fresh Ajv of the document's dialect.
import Ajv from 'ajv'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { Received } from './receivers.js'
import type { Json } from './helpers.js'

/** Where an operation is in a document: a path of property names. */
export type OperationPath = readonly string[]

/** The faults of a received request against the operation the document holds at `path`; none when it conforms. */
export async function requestFaults (document: Json, path: OperationPath, request: Received): Promise<string[]> {
  const { Validator } = await import('@seriousme/openapi-schema-validator')
  const validator = new Validator()
  const resolved = validator.resolveRefs({ specification: structuredClone(document) }) as Json
  const operation = path.reduce<any>((node, key) => node?.[key], resolved) as Json | undefined
  if (operation === undefined) return [`no operation at ${path.join(' > ')}`]
  const openapi30 = (document.openapi as string).startsWith('3.0')
  const ajv = openapi30 ? new Ajv({ strict: false, allErrors: true }) : new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  const faults: string[] = []
  const check = (schema: unknown, value: unknown, where: string): void => {
    const validate = ajv.compile(schema as object)
    if (!validate(value)) faults.push(...(validate.errors ?? []).map(error => `${where}${error.instancePath} ${error.message}`))
  }

  const method = path[path.length - 1]!
  if (request.method.toLowerCase() !== method) faults.push(`method ${request.method} is not the documented ${method.toUpperCase()}`)

  const url = new URL(request.url, 'http://receiver')
  const parameters = (operation.parameters ?? []) as Json[]
  const documentedQuery = new Set(parameters.filter(parameter => parameter.in === 'query').map(parameter => parameter.name as string))
  for (const name of new Set(url.searchParams.keys())) {
    if (!documentedQuery.has(name)) faults.push(`query parameter "${name}" is not documented`)
  }
  for (const parameter of parameters) {
    const { name, schema } = parameter as { name: string, schema: Json }
    let raw: string[]
    if (parameter.in === 'header') {
      const value = request.headers[name.toLowerCase()]
      raw = value === undefined ? [] : [String(value)]
    } else if (parameter.in === 'query') {
      raw = url.searchParams.getAll(name)
    } else {
      faults.push(`parameter "${name}" is in ${String(parameter.in)}, which nothing sends`)
      continue
    }
    if (raw.length === 0) {
      if (parameter.required === true) faults.push(`required ${String(parameter.in)} parameter "${name}" is missing`)
      continue
    }
    // OpenAPI's default styles: form, exploded, for a query (one entry per item); simple for a header (items joined by commas)
    const items = schema.type === 'array' ? (parameter.in === 'header' ? raw[0]!.split(',') : raw) : undefined
    const value = items === undefined ? coerce(raw[raw.length - 1]!, schema) : items.map(item => coerce(item, (schema.items ?? {}) as Json))
    if (items === undefined && raw.length > 1) faults.push(`${String(parameter.in)} parameter "${name}" is given ${raw.length} times`)
    check(schema, value, `${String(parameter.in)} parameter "${name}"`)
  }

  const body = operation.requestBody as Json | undefined
  if (body === undefined) {
    if (request.body !== '') faults.push('a body was sent where the operation documents none')
  } else if (request.body === '') {
    if (body.required === true) faults.push('the required body is missing')
  } else {
    const mediaType = String(request.headers['content-type'] ?? '').split(';')[0]!.trim()
    const media = (body.content as Json)[mediaType] as Json | undefined
    if (media === undefined) {
      faults.push(`the body's media type "${mediaType}" is not documented`)
    } else {
      let parsed: unknown
      try {
        parsed = JSON.parse(request.body)
        check(media.schema ?? {}, parsed, 'body')
      } catch {
        faults.push('the body is not JSON')
      }
    }
  }
  return faults
}

/** A parameter's text as its schema's type reads it: `3` for an integer, `true` for a boolean. */
function coerce (text: string, schema: Json): unknown {
  if ((schema.type === 'integer' || schema.type === 'number') && text.trim() !== '' && !Number.isNaN(Number(text))) return Number(text)
  if (schema.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true'
  return text
}
