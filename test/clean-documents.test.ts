import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { callbackRouter } from '../lib/index.js'
import { appWith, collectRefs, validationErrors } from './helpers.js'

const Tree = Type.Recursive(This => Type.Object({ kids: Type.Array(This) }))
const Node = Type.Recursive(This => Type.Object({ id: Type.String(), children: Type.Array(This) }))

async function app (openapi: string) {
  const app = await appWith({ openapi, swaggerOptions: { openapi: { openapi, info: { title: 'Test', version: '1.0.0' }, webhooks: { raw: { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/def-2' } } } }, responses: { 200: { description: 'OK' } } } } } as any } } })
  app.addSchema({ $id: 'OnlyWebhook', type: 'object', properties: { a: { type: 'string' } } })
  app.addSchema({ $id: 'Shared', type: 'object', properties: { a: { type: 'string' } } })
  app.addSchema({ $id: 'OnlyRaw', type: 'object', properties: { b: { type: 'string' } } })
  app.addSchema({ $id: 'Titled', title: 'A titled schema', type: 'object' })
  app.webhooks.post('tree', { schema: { body: Type.Object({ tree: Tree, only: Type.Ref('OnlyWebhook'), shared: Type.Ref('Shared') }) } })
  const cb = callbackRouter().post('{$url}', { name: 'cb', schema: { body: Node } })
  app.post('/q', { schema: { body: Type.Object({ s: Type.Ref('Shared'), t: Type.Ref('Titled') }), callbacks: [cb] } }, async () => ({}))
  await app.ready()
  return app
}

const titles = (document: any) => Object.fromEntries(Object.entries(document.components.schemas).map(([name, schema]: [string, any]) => [name, schema.title]))

test('a 3.0 document keeps no component that only the dropped webhooks used; the rest stay', async (t) => {
  const server = await app('3.0.3')
  t.teardown(() => server.close())
  const document = server.swagger() as any
  t.same(titles(document), { 'def-1': 'Shared', 'def-3': 'A titled schema', 'def-6': undefined })
  t.equal(document.webhooks, undefined)
  t.same(collectRefs(document).sort(), ['#/components/schemas/def-1', '#/components/schemas/def-3', '#/components/schemas/def-6', '#/components/schemas/def-6'])
  t.same(await validationErrors(document), [])
})

test('a 3.1 document keeps them all, for its webhooks; no generated $id leaks as a title, a given title stays', async (t) => {
  const server = await app('3.1.0')
  t.teardown(() => server.close())
  const document = server.swagger() as any
  t.same(titles(document), { 'def-0': 'OnlyWebhook', 'def-1': 'Shared', 'def-2': 'OnlyRaw', 'def-3': 'A titled schema', 'def-5': undefined, 'def-6': undefined })
  t.notMatch(server.swagger({ yaml: true }), /title: T[0-6]\b/)
  t.same(await validationErrors(document), [])
})

test('only a title @fastify/swagger copied from a generated $id goes: a title of the app\'s own stays, even T1', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi })
    app.addSchema({ $id: 'T7', title: 'T7', type: 'object', properties: { a: { type: 'string' } } })
    const Titled = Type.Object({ id: Type.String() }, { $id: 'T8', title: 'T1' })
    const cb = callbackRouter().post('{$url}', { name: 'cb', schema: { body: Type.Object({ inline: Type.String({ title: 'T2' }), tree: Tree, titled: Titled }) } })
    app.post('/q', { schema: { body: Type.Object({ seven: Type.Ref('T7'), titled: Titled }), callbacks: [cb] } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    const kept = Object.values(document.components.schemas).map((schema: any) => schema.title).filter(title => title !== undefined)
    t.same(kept.sort(), ['T1', 'T7'], `${openapi}: the app's titles, and not Tree's generated T0`)
    const body = document.paths['/q'].post.callbacks.cb['{$url}'].post.requestBody.content['application/json'].schema
    t.equal(body.properties.inline.title, 'T2', 'an inline title of the app\'s own')
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})

test('a property named like a keyword of values (default, examples, enum, const) is a schema: its generated titles go too', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi })
    const Branch = Type.Recursive(This => Type.Object({ branches: Type.Array(This) }))
    const cb = callbackRouter().post('{$url}', { name: 'cb', schema: { body: Type.Object({ default: Branch, enum: Branch, const: Branch, examples: Branch }) } })
    app.post('/q', { schema: { callbacks: [cb] } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    const titles: string[] = []
    JSON.stringify(document, (key, value: unknown) => { if (key === 'title' && typeof value === 'string') titles.push(value); return value })
    t.same(titles, ['Test'], `${openapi}: only the document's own title, no copy of Branch's generated $id`)
    t.same(await validationErrors(document), [], openapi)
    await app.close()
  }
})
