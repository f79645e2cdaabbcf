import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import openapiCallbacks from '../lib/index.js'
import type { DeliveryOptions, FastifyOpenapiCallbacksOptions, OutcomeEvent } from '../lib/index.js'
import type { DeliveryEngine, EngineContext } from '../lib/delivery/engines/engine.js'
import type { DeliveryMessage } from '../lib/delivery/message.js'

export type Json = Record<string, any>

/** An app with @fastify/swagger and the plugin registered, in that order. */
export async function appWith (
  { swaggerOptions = {}, pluginOptions = {}, openapi = '3.0.3', serverOptions = {} }: {
    swaggerOptions?: Partial<FastifyDynamicSwaggerOptions>
    pluginOptions?: FastifyOpenapiCallbacksOptions
    openapi?: string
    serverOptions?: FastifyServerOptions
  } = {}
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions)
  await app.register(swagger, { openapi: { openapi, info: { title: 'Test', version: '1.0.0' } }, ...swaggerOptions })
  await app.register(openapiCallbacks, pluginOptions)
  return app
}

/**
 * A 3.1 app whose plugin trusts the test receivers on 127.0.0.1, with its log lines; `outcome()` resolves with the
 * next final outcome of a queued message.
 */
export async function loopbackApp (delivery: DeliveryOptions = {}) {
  const lines: Json[] = []
  const outcomes: OutcomeEvent[] = []
  let waiting: ((event: OutcomeEvent) => void) | undefined
  const app = await appWith({
    openapi: '3.1.0',
    pluginOptions: {
      delivery: {
        allowHttp: true,
        allow: ['127.0.0.1'],
        onOutcome: (event) => {
          outcomes.push(event)
          waiting?.(event)
        },
        ...delivery
      }
    },
    serverOptions: { logger: { level: 'info', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } }
  })
  return { app, lines, outcomes, outcome: () => new Promise<OutcomeEvent>(resolve => { waiting = resolve }) }
}

/** An engine the test drives by hand: it hands the plugin whatever message it is given, as a store would. */
export function handEngine (): { engine: DeliveryEngine, run: (message: DeliveryMessage) => ReturnType<EngineContext['run']> } {
  let context: EngineContext | undefined
  const engine: DeliveryEngine = {
    open: async (given) => { context = given },
    add: async () => {},
    work: async () => {},
    close: async () => {},
    pending: async () => []
  }
  return { engine, run: message => context!.run(message) }
}

/** Validates a document against the official OpenAPI schema of its version, and checks that no `$ref` dangles. */
export async function validationErrors (document: Json): Promise<unknown[]> {
  const { Validator } = await import('@seriousme/openapi-schema-validator')
  const validator = new Validator()
  const result = await validator.validate(structuredClone(document))
  const errors: unknown[] = result.valid ? [] : [result.errors]
  for (const ref of collectRefs(document)) {
    if (!ref.startsWith('#/') || resolvePointer(document, ref.slice(1)) === undefined) errors.push(`dangling $ref ${ref}`)
  }
  return errors
}

export function collectRefs (value: unknown, refs: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, refs)
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') refs.push(item)
      else collectRefs(item, refs)
    }
  }
  return refs
}

function resolvePointer (document: unknown, pointer: string): unknown {
  let node = document
  for (const token of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~')
    node = typeof node === 'object' && node !== null ? (node as Json)[key] : undefined
  }
  return node
}

/** The Standard Webhooks headers every callback and webhook operation documents by default, as the README shows them. */
export const webhookIdHeader = {
  name: 'webhook-id',
  in: 'header',
  required: true,
  description: 'The message id: the same on every attempt of a message, retries included, so it is the idempotency key to deduplicate on.',
  schema: { type: 'string' },
  example: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'
}
export const webhookTimestampHeader = {
  name: 'webhook-timestamp',
  in: 'header',
  required: true,
  description: 'When this attempt was made, in Unix seconds.',
  schema: { type: 'integer' },
  example: 1767225600
}
/** Without a secret: the id and the timestamp, no signature. */
export const unsignedHeaders = [webhookIdHeader, webhookTimestampHeader]

/** The isolation part of a hand-made EngineContext, for engine tests that drive `run` themselves: every receiver always has room. */
export const roomForAll: Pick<EngineContext, 'receiverOf' | 'admission'> = {
  receiverOf: message => new URL(message.target.url).origin,
  admission: () => ({ room: 1, wait: 0 })
}
