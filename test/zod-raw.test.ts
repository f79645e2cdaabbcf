import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'
import openapiCallbacks, { callbackRouter } from '../lib/index.js'
import { validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

const Money = z.object({ amount: z.number() }).meta({ id: 'ZodRawMoney' })

async function zodApp (openapi: string) {
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(swagger, { openapi: { openapi, info: { title: 'Zod', version: '1.0.0' } }, transform: jsonSchemaTransform, transformObject: jsonSchemaTransformObject })
  await app.register(openapiCallbacks)
  return app
}

for (const openapi of ['3.0.3', '3.1.0']) {
  const openapi30 = openapi === '3.0.3'

  test(`zod schemas in a raw callbacks map are written as JSON Schema for OpenAPI ${openapi}`, async (t) => {
    const app = await zodApp(openapi)
    t.teardown(() => app.close())
    app.post('/orders', {
      schema: {
        body: z.object({ callback_url: z.string() }),
        callbacks: {
          shipped: {
            '{$request.body#/callback_url}': {
              post: {
                requestBody: { content: { 'application/json': { schema: z.object({ id: z.string(), at: z.date() }) } } },
                responses: {
                  200: {
                    description: 'OK',
                    headers: { 'x-count': { schema: z.number().int() } },
                    content: { 'application/json': { schema: z.object({ seen: z.boolean().default(true) }) } }
                  }
                }
              }
            }
          }
        }
      }
    }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    const operation = document.paths['/orders'].post.callbacks.shipped['{$request.body#/callback_url}'].post
    // the body is what the plugin sends: a date goes as its ISO string; the answer is read: a default makes it optional
    t.same(operation.requestBody.content['application/json'].schema, {
      type: 'object',
      properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
      required: ['id', 'at'],
      additionalProperties: false
    })
    t.same(operation.responses['200'].content['application/json'].schema, { type: 'object', properties: { seen: { type: 'boolean', default: true } } })
    t.same(operation.responses['200'].headers['x-count'].schema, { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 })
    t.same(await validationErrors(document), [])
  })

  test(`a zod union with null in a definition is written as OpenAPI ${openapi} says null`, async (t) => {
    const app = await zodApp(openapi)
    t.teardown(() => app.close())
    const router = callbackRouter()
    router.post('{$request.body#/callback_url}', {
      name: 'changed',
      schema: {
        body: z.object({
          text: z.string().nullable(),
          object: z.union([z.object({ x: z.number() }), z.null()]),
          several: z.union([z.string(), z.number(), z.null()]),
          shared: z.union([Money, z.null()]),
          plain: z.union([z.string(), z.number()]),
          // zod writes a literal null with type 'null', which 3.0 does not have
          literal: z.literal(null),
          literalOrText: z.union([z.literal(null), z.string()]),
          onlyNulls: z.union([z.null(), z.literal(null)]),
          // the union's own description, not its branch's
          described: z.union([z.string().describe('A branch'), z.null()]).describe('The union')
        })
      }
    })
    app.post('/orders', { schema: { body: z.object({ callback_url: z.string() }), callbacks: router.routes } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as Json
    const { properties } = document.paths['/orders'].post.callbacks.changed['{$request.body#/callback_url}'].post.requestBody.content['application/json'].schema
    const object = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], additionalProperties: false }
    const ref = { $ref: '#/components/schemas/ZodRawMoney' }
    t.same(properties, openapi30
      ? {
          text: { type: 'string', nullable: true },
          object: { ...object, nullable: true },
          several: { anyOf: [{ type: 'string', nullable: true }, { type: 'number', nullable: true }] },
          shared: { allOf: [ref], nullable: true },
          plain: { anyOf: [{ type: 'string' }, { type: 'number' }] },
          literal: { type: 'string', nullable: true, enum: [null] },
          literalOrText: { type: 'string', nullable: true },
          onlyNulls: { anyOf: [{ type: 'string', nullable: true, enum: [null] }, { type: 'string', nullable: true, enum: [null] }] },
          described: { description: 'The union', type: 'string', nullable: true }
        }
      : {
          text: { type: ['string', 'null'] },
          object: { anyOf: [object, { type: 'null' }] },
          several: { type: ['string', 'number', 'null'] },
          shared: { anyOf: [ref, { type: 'null' }] },
          plain: { type: ['string', 'number'] },
          literal: { type: 'null', const: null },
          literalOrText: { anyOf: [{ type: 'null', const: null }, { type: 'string' }] },
          onlyNulls: { anyOf: [{ type: 'null' }, { type: 'null', const: null }] },
          described: { description: 'The union', anyOf: [{ description: 'A branch', type: 'string' }, { type: 'null' }] }
        })
    t.same(await validationErrors(document), [])
  })
}
