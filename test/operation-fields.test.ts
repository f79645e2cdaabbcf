import { test } from 'tap'
import { Type } from '@sinclair/typebox'
import { stringify } from 'yaml'
import { callbackRouter } from '../lib/index.js'
import { appWith, validationErrors } from './helpers.js'
import { startReceiver } from './receivers.js'

const Body = Type.Object({ callback_url: Type.String() })
const fields = {
  externalDocs: { url: 'https://docs.test/events', description: 'The events' },
  servers: [{ url: 'https://{tenant}.hooks.test', variables: { tenant: { default: 'acme' } } }],
  'x-codeSamples': [{ lang: 'shell', source: 'curl' }],
  'x-internal': false
}

test('externalDocs, servers and x- extensions go to the callback\'s and the webhook\'s operation, in 3.0 and 3.1', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const app = await appWith({ openapi })
    const router = callbackRouter()
    router.post('{$request.body#/callback_url}', { name: 'documented', ...fields })
    app.webhooks.post('ping', fields)
    app.post('/events', { schema: { body: Body, callbacks: router.routes } }, async () => ({}))
    await app.ready()
    const document = app.swagger() as any
    t.match(document.paths['/events'].post.callbacks.documented['{$request.body#/callback_url}'].post, fields, openapi)
    if (openapi === '3.1.0') t.match(document.webhooks.ping.post, fields)
    t.same(await validationErrors(document), [], openapi)
    t.match(app.swagger({ yaml: true }), stringify({ 'x-codeSamples': fields['x-codeSamples'] }).trim().split('\n')[0])
    await app.close()
  }
})

test('a hidden callback and a hidden webhook: documented nowhere, no empty Path Item, still resolved and sent', async (t) => {
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'] } } })
  const router = callbackRouter()
  const hidden = router.post('{$request.body#/callback_url}/hidden', { name: 'hidden', hide: true, schema: { body: Type.Object({ id: Type.String() }) } })
  router.post('{$request.body#/callback_url}/shown', { name: 'shown' })
  const onlyHidden = callbackRouter().post('{$request.body#/callback_url}/hidden', { name: 'hidden', hide: true })
  const hiddenWebhook = app.webhooks.post('secret', { hide: true, schema: { body: Type.Object({ id: Type.String() }) } })
  app.webhooks.post('public')
  app.post('/mixed', { schema: { body: Body, callbacks: router.routes } }, async (request) => app.callbacks.target(hidden, request))
  app.post('/solo', { schema: { body: Body, callbacks: [onlyHidden] } }, async (request) => app.callbacks.target(onlyHidden, request))
  await app.ready()
  t.teardown(() => app.close())
  const document = app.swagger() as any
  t.same(Object.keys(document.paths['/mixed'].post.callbacks), ['shown'])
  t.equal(document.paths['/solo'].post.callbacks, undefined, 'no callbacks field at all')
  t.same(Object.keys(document.webhooks), ['public'])
  t.notMatch(JSON.stringify(document), /hidden|secret/i)
  t.same(await validationErrors(document), [])

  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const { target } = (await app.inject({ method: 'POST', url: '/mixed', payload: { callback_url: receiver.origin } })).json()
  t.match(target, { key: 'post_mixed_hidden_post', name: 'hidden', url: `${receiver.origin}/hidden` })
  t.match(await app.callbacks.send(hidden, target, { id: 'a' }), { outcome: 'delivered' })
  const other = (await app.inject({ method: 'POST', url: '/solo', payload: { callback_url: receiver.origin } })).json()
  t.match(other.target, { key: 'post_solo_hidden_post' }, 'a key of its own, unique')
  t.match(await app.callbacks.send(hiddenWebhook, `${receiver.origin}/webhook`, { id: 'b' }), { outcome: 'delivered' })
  t.same(receiver.received.map(({ url }) => url), ['/hidden', '/webhook'])
})

test('a hidden callback still claims its operationId: a second use of it is a startup error', async (t) => {
  const app = await appWith({ openapi: '3.1.0' })
  const hidden = callbackRouter().post('{$request.body#/callback_url}', { name: 'hidden', hide: true, operationId: 'hiddenOne' })
  app.post('/a', { schema: { body: Body, callbacks: [hidden] } }, async () => ({}))
  app.post('/b', { schema: { body: Body, callbacks: [hidden] } }, async () => ({}))
  await t.rejects(async () => { await app.ready() }, { code: 'FST_OPENAPI_CALLBACKS_DUPLICATE', message: /operationId "hiddenOne" is already used/ })
})

test('bad extensions, externalDocs, servers and hide are coded errors naming the definition; unknown options stay errors', async (t) => {
  const router = callbackRouter()
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ hide: 'yes' }, /hide must be a boolean/],
    [{ externalDocs: 'https://docs.test' }, /externalDocs must be an object with a non-empty url/],
    [{ externalDocs: { description: 'no url' } }, /externalDocs must be an object with a non-empty url/],
    [{ servers: { url: 'https://a.test' } }, /servers must be an array of Server Objects/],
    [{ servers: [{ url: '' }] }, /servers must be an array of Server Objects/],
    [{ 'x-handler': () => {} }, /x-handler must be plain data/],
    [{ 'x-': 1 }, /unknown option "x-"/],
    [{ externalDoc: { url: 'https://a.test' } }, /unknown option "externalDoc"/],
    [{ extensions: {} }, /unknown option "extensions"/]
  ]
  for (const [options, message] of cases) {
    t.throws(() => router.post('{$url}', { name: 'cb', ...options }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message: new RegExp(`^callback POST \\{\\$url\\} \\("cb"\\): ${message.source}`) })
  }
  const app = await appWith({ openapi: '3.1.0' })
  t.throws(() => app.webhooks.post('ping', { servers: [null] } as any), { code: 'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION', message: /^webhook POST "ping": servers must be/ })
  await app.close()
})

test('a definition keeps its own copy of the fields: changing the options afterwards changes nothing', async (t) => {
  const options = { name: 'copied', 'x-meta': { level: 1 } }
  const definition = callbackRouter().post('{$request.body#/callback_url}', options)
  options['x-meta'].level = 2
  const app = await appWith({ openapi: '3.1.0' })
  app.post('/copied', { schema: { body: Body, callbacks: [definition] } }, async () => ({}))
  await app.ready()
  const document = app.swagger() as any
  t.same(document.paths['/copied'].post.callbacks.copied['{$request.body#/callback_url}'].post['x-meta'], { level: 1 })
  await app.close()
})
