import { test } from 'tap'
import Fastify from 'fastify'
import fc from 'fast-check'
import { request } from 'undici'
import { Type } from '@sinclair/typebox'
import { parseSecret, webhookReceiver } from '../lib/index.js'
import { signWebhook } from '../lib/standard-webhooks/signing.js'
import { appWith } from './helpers.js'

const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`
const Event = Type.Object({ id: Type.String() })

/** A Fastify server whose receiver context keeps each body it verified, with the content type it came with. */
async function receiverServer () {
  const server = Fastify()
  const verified: Array<{ contentType: string | undefined, body: unknown }> = []
  await server.register(async (scope) => {
    await scope.register(webhookReceiver, { secret: SECRET })
    scope.post('/hooks', async (request) => {
      verified.push({ contentType: request.headers['content-type'], body: request.body })
      return { ok: true }
    })
  })
  await server.listen({ host: '127.0.0.1', port: 0 })
  return { server, verified, url: `http://127.0.0.1:${(server.server.address() as { port: number }).port}/hooks` }
}

// the JSON media types a webhook may declare, as the sender sends them: +json suffixes, vendor trees, parameters, any case
const DECLARED = [
  'application/json',
  'application/cloudevents+json',
  'application/problem+json',
  'application/vnd.x+json',
  'application/vnd.acme.invoice-v2+json; charset=utf-8',
  'application/json;charset=UTF-8',
  'APPLICATION/Merge-Patch+JSON'
]

test('every JSON media type the plugin sends a webhook as is verified and parsed by webhookReceiver', async (t) => {
  const { server, verified, url } = await receiverServer()
  t.teardown(() => server.close())
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], secret: SECRET } } })
  t.teardown(() => app.close())
  // declared both ways a body names its media types: a content map, and `consumes`
  const byContent = DECLARED.map((type, index) => app.webhooks.post(`content-${index}`, { schema: { body: { content: { [type]: { schema: Event } } } } }))
  const byConsumes = DECLARED.map((type, index) => app.webhooks.post(`consumes-${index}`, { schema: { body: Event, consumes: [type] } }))
  await app.ready()

  for (const [index, type] of DECLARED.entries()) {
    for (const webhook of [byContent[index]!, byConsumes[index]!]) {
      const result = await app.callbacks.send(webhook, url, { id: `${webhook.name}` })
      t.match(result, { outcome: 'delivered', statusCode: 200 }, `${webhook.name}: ${type}`)
      t.same(verified.at(-1), { contentType: type, body: { id: webhook.name } }, `${webhook.name}: verified, parsed, as sent`)
    }
  }
})

test('any +json media type a webhook declares, with parameters, goes through the sender and the receiver (property)', async (t) => {
  const { server, verified, url } = await receiverServer()
  t.teardown(() => server.close())
  const app = await appWith({ openapi: '3.1.0', pluginOptions: { delivery: { allowHttp: true, allow: ['127.0.0.1'], secret: SECRET } } })
  t.teardown(() => app.close())
  const name = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/)
  const mediaType = fc.tuple(
    fc.option(name, { nil: undefined }),
    fc.constantFrom('json', 'JSON', 'Json'),
    fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.stringMatching(/^[a-zA-Z0-9-]{1,10}$/)), { maxLength: 2 }),
    fc.constantFrom(';', '; ', ' ;')
  ).map(([tree, json, parameters, separator]) =>
    `application/${tree === undefined ? '' : `${tree}+`}${json}${parameters.map(([key, value]) => `${separator}${key}=${value}`).join('')}`)
  // webhooks are declared before the app is ready: one for each sampled media type
  const types = fc.sample(mediaType, { numRuns: 25, seed: 21 })
  const webhooks = types.map((type, index) => app.webhooks.post(`sampled-${index}`, { schema: { body: { content: { [type]: { schema: Event } } } } }))
  await app.ready()
  for (const [index, type] of types.entries()) {
    const result = await app.callbacks.send(webhooks[index]!, url, { id: String(index) })
    t.equal(result.outcome, 'delivered', type)
    t.same(verified.at(-1), { contentType: type, body: { id: String(index) } }, type)
  }
})

test('other media types are still refused with 415, and the handler never runs', async (t) => {
  const { server, verified, url } = await receiverServer()
  t.teardown(() => server.close())
  const body = '{"id":"x"}'
  for (const type of ['text/plain', 'application/jsonx', 'application/json-seq', 'application/x-json', 'application/xml', 'multipart/form-data; boundary=x', 'text/json', 'application/+json']) {
    const headers = { 'content-type': type, ...signWebhook([parseSecret(SECRET)], `msg_${verified.length}x${type.length}`, Math.floor(Date.now() / 1000), body) }
    const response = await request(url, { method: 'POST', headers, body })
    t.equal(response.statusCode, 415, type)
    t.match(await response.body.json(), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, type)
  }
  t.same(verified, [])
})
