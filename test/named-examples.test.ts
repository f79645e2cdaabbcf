import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import { startReceiver } from './receivers.js'

const paid = { summary: 'A paid invoice', description: 'Sent when the invoice is paid', value: { id: 'inv-1', paid: true } }
const unpaid = { summary: 'An unpaid invoice', value: { id: 'inv-2', paid: false } }
const Event = Type.Object({ id: Type.String(), paid: Type.Boolean() }, { 'x-examples': { paid, unpaid } })
const Ack = Type.Object({ ok: Type.Boolean() })

function declare (app: Awaited<ReturnType<typeof appWith>>) {
  const router = callbackRouter()
  const event = router.post('{$request.body#/callback_url}', {
    name: 'event',
    schema: {
      body: Event,
      consumes: ['application/json', 'application/vnd.event+json'],
      response: {
        200: { content: { 'application/json': { schema: Ack, examples: { accepted: { summary: 'Accepted', value: { ok: true } } } } } },
        400: Type.Object({ error: Type.String() }, { examples: [{ error: 'bad' }] })
      }
    }
  })
  app.webhooks.post('invoice', { schema: { body: { content: { 'application/json': { schema: Type.Omit(Event, ['x-examples']), examples: { paid } } } } } })
  app.post('/events', { schema: { body: Type.Object({ callback_url: Type.String() }), callbacks: router.routes } }, async (request) => app.callbacks.target(event, request))
  return event
}

test('named examples, with summary and description, per media type, for bodies and responses, in 3.0 and 3.1', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi })
    declare(app)
    await app.ready()
    const document = app.swagger() as any
    const operation = document.paths['/events'].post.callbacks.event['{$request.body#/callback_url}'].post
    for (const type of ['application/json', 'application/vnd.event+json']) {
      t.same(operation.requestBody.content[type].examples, { paid, unpaid }, `${openapi} ${type}`)
      t.equal(operation.requestBody.content[type].example, undefined)
      t.notMatch(JSON.stringify(operation.requestBody.content[type].schema), /x-examples/, 'the schema does not keep them')
    }
    t.same(operation.responses['200'].content['application/json'].examples, { accepted: { summary: 'Accepted', value: { ok: true } } })
    t.same(operation.responses['400'].content['application/json'].example, { error: 'bad' }, 'a schema\'s examples array still works')
    if (openapi === '3.1.0') t.same(document.webhooks.invoice.post.requestBody.content['application/json'].examples, { paid })
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})

test('a body with named examples is still validated and sent as declared', async (t) => {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  const event = declare(app)
  await app.ready()
  t.teardown(() => app.close())
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { target } = (await app.inject({ method: 'POST', url: '/events', payload: { callback_url: receiver.origin } })).json()
  t.match(await app.callbacks.send(event, target, { id: 'inv-1', paid: true }), { outcome: 'delivered' })
  await t.rejects(app.callbacks.send(event, target, { id: 'inv-1' } as any), { code: 'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD' })
  t.equal(receiver.received.length, 1)
})

test('bad named examples are coded errors naming the definition and where', async (t) => {
  const router = callbackRouter()
  const cases: Array<[unknown, RegExp]> = [
    [{ body: { type: 'object', 'x-examples': [paid] } }, /schema\.body\['x-examples'\] must map names to Example Objects/],
    [{ body: { type: 'object', 'x-examples': { paid: 1 } } }, /schema\.body\['x-examples'\]\["paid"\] must be an Example Object/],
    [{ body: { type: 'object', 'x-examples': { paid: { summary: 'no value' } } } }, /\["paid"\] must have either a value or an externalValue/],
    [{ body: { type: 'object', 'x-examples': { paid: { value: 1, externalValue: 'https://a.test' } } } }, /\["paid"\] must have either a value or an externalValue/],
    [{ body: { type: 'object', 'x-examples': { paid: { value: 1, summary: 2 } } } }, /\["paid"\]\.summary must be a string/],
    [{ body: { type: 'object', 'x-examples': { paid: { valu: 1 } } } }, /\["paid"\] has an unknown field "valu"/],
    [{ body: { content: [] } }, /schema\.body\.content must map media types/],
    [{ response: { 200: { content: { 'application/json': 'x' } } } }, /schema\.response\.200\.content\["application\/json"\] must be an object/],
    [{ response: { 200: { content: { 'application/json': { schema: {}, examples: { a: { summary: 'x' } } } } } } }, /schema\.response\.200\.content\["application\/json"\]\.examples\["a"\] must have either/]
  ]
  for (const [schema, message] of cases) {
    t.throws(() => router.post('{$url}', { name: 'cb', schema: schema as any }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message: new RegExp(`^callback POST \\{\\$url\\} \\("cb"\\): .*${message.source}`) })
  }
})
