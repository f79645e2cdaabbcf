import Ajv from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { describeDefinition } from '../definition/definition.js'
import type { OperationDefinition } from '../definition/definition.js'
import { InvalidDefinitionError, InvalidPayloadError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import type { Json } from '../util/json.js'

/** Checks a receiver's answer; returns the faults, or undefined when it conforms. */
export type ResponseCheck = (value: unknown) => string[] | undefined

export interface PayloadValidator {
  /**
   * The body to send: the payload serialised to JSON, then validated as the receiver will parse it (so a Date
   * is checked as the string it becomes). Undefined for no body. Throws FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD.
   */
  serialise (definition: OperationDefinition, payload: unknown): string | undefined
  /** The check of a JSON answer with this status (exact code, then `2XX`, then `default`), if one is declared. */
  responseCheck (definition: OperationDefinition, statusCode: number): ResponseCheck | undefined
  /** The checks of the declared header and query parameters, as given to send(). */
  parameterChecks (definition: OperationDefinition): { headers: ResponseCheck | undefined, query: ResponseCheck | undefined }
}

interface Compiled {
  body: ValidateFunction | undefined
  parameters: { headers: ResponseCheck | undefined, query: ResponseCheck | undefined }
  responses: Map<string, ResponseCheck | undefined>
}

/** application/json, or a +json type such as application/problem+json, with or without parameters. */
export function isJsonMediaType (type: string): boolean {
  return /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)
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
    let bodyCheck: ValidateFunction | undefined
    if (body !== undefined) {
      const schema = jsonSchema(body as Json, consumes)
      if (schema === null) throw new InvalidDefinitionError(label, 'its body has no JSON media type, and fastify-openapi-callbacks sends JSON bodies only')
      bodyCheck = build(payloads, schema, 'body')
    }
    // a declared response that cannot be checked (no body, or not JSON) is still the one that applies to its status
    const responses = new Map<string, ResponseCheck | undefined>()
    for (const [code, value] of Object.entries(response ?? {})) {
      const schema = jsonSchema(value as Json, produces)
      if (schema === null || (schema as Json).type === 'null') {
        responses.set(code.toUpperCase(), undefined)
        continue
      }
      answers ??= createAjv(false)
      const validate = build(answers, schema, `response ${code}`)
      responses.set(code.toUpperCase(), value => validate(value) ? undefined : describeErrors(validate.errors!))
    }
    const parameterCheck = (schema: unknown, where: string): ResponseCheck | undefined => {
      if (schema === undefined) return undefined
      const validate = build(payloads!, schema, where)
      return value => validate(value) ? undefined : describeErrors(validate.errors!)
    }
    const parameters = { headers: parameterCheck(definition.schema.headers, 'headers'), query: parameterCheck(definition.schema.querystring, 'querystring') }
    const result = { body: bodyCheck, responses, parameters }
    compiled.set(definition, result)
    return result
  }

  return {
    serialise (definition, payload) {
      const { body } = compile(definition)
      let text: string | undefined
      try {
        text = JSON.stringify(payload)
      } catch (error) {
        throw new InvalidPayloadError(describeDefinition(definition), `it cannot be serialised to JSON (${(error as Error).message})`)
      }
      if (body === undefined) return text
      if (text === undefined) throw new InvalidPayloadError(describeDefinition(definition), 'there is none, and the definition declares a body')
      const sent: unknown = JSON.parse(text)
      if (!body(sent)) {
        const faults = describeErrors(body.errors!)
        throw Object.assign(new InvalidPayloadError(describeDefinition(definition), faults.join('; ')), { validation: faults })
      }
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
