import Ajv from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { describeDefinition } from '../definition/definition.js'
import { isZodSchema, parseWith, readableSchema } from '../definition/schema-kind.js'
import type { ParseResult } from '../definition/schema-kind.js'
import type { SchemaCheck } from './parameters.js'
import type { OperationDefinition } from '../definition/definition.js'
import { InvalidDefinitionError, InvalidPayloadError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import { isJsonMediaType } from '../util/media-type.js'
import type { Json } from '../util/json.js'

// the sender reads answers by the same rule
export { isJsonMediaType }

/** Checks a receiver's answer: the body to give the app (a zod schema's output), or the faults. */
export type ResponseCheck = (value: unknown) => ParseResult

export interface PayloadValidator {
  /**
   * The body to send: the payload serialised to JSON, then validated as the receiver will parse it (so a Date
   * is checked as the string it becomes). Undefined for no body. Throws FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD.
   */
  serialise (definition: OperationDefinition, payload: unknown): string | undefined
  /** The check of a JSON answer with this status (exact code, then `2XX`, then `default`), if one is declared. */
  responseCheck (definition: OperationDefinition, statusCode: number): ResponseCheck | undefined
  /** The checks of the declared header and query parameters, as given to send(). */
  parameterChecks (definition: OperationDefinition): { headers: SchemaCheck | undefined, query: SchemaCheck | undefined }
}

interface Compiled {
  body: { zod: true, check: ResponseCheck } | { zod: false, check: ValidateFunction } | undefined
  parameters: { headers: SchemaCheck | undefined, query: SchemaCheck | undefined }
  responses: Map<string, ResponseCheck | undefined>
}

/** The media type a body is sent as: its first declared JSON type (`application/cloudevents+json`, say), else application/json. */
export function bodyMediaType (definition: OperationDefinition): string {
  const { body, consumes } = definition.schema
  const declared = isObject(body) && isObject(body.content) ? Object.keys(body.content) : consumes ?? []
  return declared.find(isJsonMediaType) ?? 'application/json'
}

/** The JSON schema of a body or response given as a schema or as `{ content: { type: { schema } } }`; null when JSON is not among its media types. */
function jsonSchema (schema: Json, mediaTypes: readonly string[] | undefined): unknown {
  if (isObject(schema.content)) {
    const type = Object.keys(schema.content).find(isJsonMediaType)
    return type === undefined ? null : (schema.content[type] as Json).schema ?? {}
  }
  return (mediaTypes ?? ['application/json']).some(isJsonMediaType) ? schema : null
}

function describeErrors (errors: ErrorObject[]): string[] {
  return errors.map(error => `${error.instancePath === '' ? '/' : error.instancePath} ${error.message}`)
}

/**
 * Payload and response validation with Ajv, compiled once per definition on first use. `$ref`s resolve among
 * `sharedSchemas()`, the schemas of every context (fastify.addSchema), read on the first compilation.
 * The payload is never changed: no coercion, no defaults, no removal.
 */
export function createPayloadValidator (sharedSchemas: () => unknown[]): PayloadValidator {
  // the app's payloads get every fault; receivers' answers come from strangers, so their check stops at the first
  let payloads: Ajv | undefined
  let answers: Ajv | undefined
  const compiled = new WeakMap<OperationDefinition, Compiled>()

  function createAjv (allErrors: boolean): Ajv {
    // strictSchema off: route schemas carry annotations Ajv does not know (example, x-…), as Fastify allows
    const ajv = new Ajv({ allErrors, strictSchema: false })
    addFormats(ajv)
    // the same id in several contexts: the first one read wins
    const ids = new Set<string>()
    for (const schema of sharedSchemas()) {
      const id = (schema as Json).$id as string
      if (!ids.has(id)) ajv.addSchema(schema as Json, id)
      ids.add(id)
    }
    return ajv
  }

  /** A zod schema checks with itself; any other with Ajv. */
  function checkOf (build: () => ValidateFunction, schema: unknown): ResponseCheck {
    if (isZodSchema(schema)) return value => parseWith(schema, value)
    const validate = build()
    return value => validate(value) ? { ok: true, value } : { ok: false, faults: describeErrors(validate.errors!) }
  }

  function compile (definition: OperationDefinition): Compiled {
    const known = compiled.get(definition)
    if (known !== undefined) return known
    payloads ??= createAjv(true)
    const label = describeDefinition(definition)
    const build = (ajv: Ajv, schema: unknown, where: string): ValidateFunction => {
      try {
        return ajv.compile(schema as Json)
      } catch (error) {
        throw new InvalidDefinitionError(label, `its ${where} schema cannot be compiled to validate what is sent and received (${(error as Error).message})`)
      }
    }
    const { body, consumes, produces, response } = definition.schema
    let bodyCheck: Compiled['body']
    if (body !== undefined) {
      const schema = jsonSchema(body as Json, consumes)
      if (schema === null) throw new InvalidDefinitionError(label, 'its body has no JSON media type, and fastify-openapi-callbacks sends JSON bodies only')
      bodyCheck = isZodSchema(schema) ? { zod: true, check: value => parseWith(schema, value) } : { zod: false, check: build(payloads, schema, 'body') }
    }
    // a declared response that cannot be checked (no body, or not JSON) is still the one that applies to its status
    const responses = new Map<string, ResponseCheck | undefined>()
    for (const [code, value] of Object.entries(response ?? {})) {
      const schema = jsonSchema(value as Json, produces)
      if (schema === null || (readableSchema(schema, 'input') as Json).type === 'null') {
        responses.set(code.toUpperCase(), undefined)
        continue
      }
      responses.set(code.toUpperCase(), checkOf(() => {
        answers ??= createAjv(false)
        return build(answers, schema, `response ${code}`)
      }, schema))
    }
    const parameterCheck = (schema: unknown, where: string): SchemaCheck | undefined => {
      if (schema === undefined) return undefined
      const check = checkOf(() => build(payloads!, schema, where), schema)
      return value => {
        const result = check(value)
        return result.ok ? undefined : result.faults
      }
    }
    const parameters = { headers: parameterCheck(definition.schema.headers, 'headers'), query: parameterCheck(definition.schema.querystring, 'querystring') }
    const result = { body: bodyCheck, responses, parameters }
    compiled.set(definition, result)
    return result
  }

  return {
    serialise (definition, payload) {
      const { body } = compile(definition)
      // the definition is described only for an error: a valid payload builds no text
      const label = (): string => describeDefinition(definition)
      const invalid = (faults: string[]): never => { throw Object.assign(new InvalidPayloadError(label(), faults.join('; ')), { validation: faults }) }
      // a zod schema parses the payload as given (a Date, a default to fill in), and its output is sent
      let sent = payload
      if (body?.zod === true) {
        const parsed = body.check(payload)
        if (!parsed.ok) invalid(parsed.faults)
        sent = (parsed as { value: unknown }).value
      }
      let text: string | undefined
      try {
        text = JSON.stringify(sent)
      } catch (error) {
        throw new InvalidPayloadError(label(), `it cannot be serialised to JSON (${(error as Error).message})`)
      }
      if (body === undefined) return text
      if (text === undefined) throw new InvalidPayloadError(label(), 'there is none, and the definition declares a body')
      if (!body.zod && !body.check(JSON.parse(text))) invalid(describeErrors(body.check.errors!))
      return text
    },
    parameterChecks: definition => compile(definition).parameters,
    responseCheck (definition, statusCode) {
      const { responses } = compile(definition)
      const code = String(statusCode)
      const declared = [code, `${code[0]}XX`, 'DEFAULT'].find(key => responses.has(key))
      return declared === undefined ? undefined : responses.get(declared)
    }
  }
}
