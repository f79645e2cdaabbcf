import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { callbackRouter } from '../lib/index.js'
import type { DocumentOptions } from '../lib/index.js'
import { appWith } from './helpers.js'

// "$ref" as a key of an operation's `callbacks` makes readers take the whole map for a Reference Object: refused at
// startup, with FST_OPENAPI_CALLBACKS_INVALID_DEFINITION, in every place a callback's name is given

const REF_FAULT = /"\$ref" cannot name a callback: readers would take the operation's callbacks map for a Reference Object/
const Body = Type.Object({ url: Type.String() })
const event = () => callbackRouter().post('{$request.body#/url}')

/** The error the app stops with: thrown while it is set up, or when it gets ready. */
async function startupError (setup: (app: FastifyInstance) => void | Promise<void>, document?: DocumentOptions): Promise<unknown> {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: document === undefined ? {} : { document } })
  try {
    await setup(app)
    await app.ready()
    // built on first use: a name that gets this far must not reach the document either
    app.swagger()
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
  return undefined
}

test('a definition named $ref is refused where it is made', async (t) => {
  t.throws(() => callbackRouter().post('{$request.body#/url}', { name: '$ref' }), {
    code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
    message: /^callback POST \{\$request\.body#\/url\} \("\$ref"\): "\$ref" cannot name a callback/
  })
  t.throws(() => callbackRouter().route({ method: 'PUT', url: '{$request.body#/url}', name: '$ref' }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message: REF_FAULT })
  t.doesNotThrow(() => callbackRouter().post('{$request.body#/url}', { name: '$REF' }), 'only "$ref" itself is the Reference Object\'s key')
})

test('$ref as a callback\'s name is refused at startup wherever an app gives a name', async (t) => {
  const route = (app: FastifyInstance, callbacks: unknown): void => {
    app.post('/orders', { schema: { body: Body, callbacks: callbacks as any } }, async () => ({}))
  }
  const cases: Array<[string, (app: FastifyInstance) => void | Promise<void>, DocumentOptions?]> = [
    ['a record in schema.callbacks', app => route(app, { $ref: event() })],
    ['a record of lists in schema.callbacks', app => route(app, { ok: event(), $ref: [event(), callbackRouter().put('{$request.body#/url}')] })],
    ['a raw OpenAPI callbacks map', app => route(app, { $ref: { '{$request.body#/url}': { post: { responses: { 200: { description: 'OK' } } } } } })],
    ['a raw map that is a Reference Object itself', app => route(app, { $ref: '#/components/callbacks/Orders' })],
    ['fastify.routeCallbacks()', app => { app.routeCallbacks({ $ref: event() }) }],
    ['register(plugin, { callbacks })', async app => {
      await app.register(async (child) => { route(child, undefined) }, { callbacks: { $ref: event() } } as any)
    }],
    ['the nested callbacks of a callback', app => route(app, [callbackRouter().post('{$request.body#/url}', { name: 'outer', schema: { body: Body }, callbacks: { $ref: event() } })])],
    ['the callbacks of a webhook', app => { app.webhooks.post('order-paid', { schema: { body: Body }, callbacks: { $ref: event() } }) }],
    ['a record shared by two routes, with document.sharedCallbacks', app => {
      const shared = { $ref: event() }
      route(app, shared)
      app.post('/returns', { schema: { body: Body, callbacks: shared as any } }, async () => ({}))
    }, { sharedCallbacks: true }]
  ]
  for (const [where, setup, document] of cases) {
    const error = await startupError(setup, document)
    t.match(error, { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', statusCode: 500, message: REF_FAULT }, where)
  }
  t.equal(await startupError(app => route(app, { $REF: event(), a$ref: event() })), undefined, 'names that only look like it are fine')
})
