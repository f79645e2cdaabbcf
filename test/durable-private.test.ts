// What Redis holds of a message: never the app's own headers (an API key in `delivery.headers`), which the process
// that sends adds at each attempt.
import t from 'tap'
import type { Redis } from 'ioredis'
import { eventually } from './eventually.js'
import { durableApp } from './fixtures/durable-app.js'
import { startReceiver } from './receivers.js'
import { startRedis, withRedis } from './redis-server.js'

const API_KEY = 'key_live_4f9a1c7e2b'
const USER_AGENT = 'acme-billing/2 (ops@acme.test)'

/** Every value of every key Redis holds, as text. */
async function everythingIn (redis: Redis): Promise<string> {
  const values: unknown[] = []
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key)
    if (type === 'hash') values.push(await redis.hgetall(key))
    else if (type === 'string') values.push(await redis.get(key))
    else if (type === 'list') values.push(await redis.lrange(key, 0, -1))
    else if (type === 'zset') values.push(await redis.zrange(key, 0, -1))
    else if (type === 'set') values.push(await redis.smembers(key))
    else values.push(await redis.xrange(key, '-', '+'))
  }
  return JSON.stringify(values)
}

withRedis(() => {
  t.test('the app\'s headers are never stored with a message: the worker adds its own at each attempt', async t => {
    const redis = await startRedis()
    t.teardown(() => redis.stop())
    const receiver = await startReceiver()
    t.teardown(() => receiver.close())
    const delivery = { headers: { 'x-api-key': API_KEY }, userAgent: USER_AGENT }
    const { app: api, webhooks } = await durableApp({ socket: redis.socket, queueName: 'private', deliver: false, delivery })
    t.teardown(() => api.close())
    await api.ready()
    const { id } = await api.callbacks.enqueue(webhooks['invoice-paid']!, `${receiver.origin}/hooks`, { n: 1 }, { headers: { 'x-tenant': 't-1' } })

    const client = redis.client()
    const stored = await everythingIn(client)
    t.ok(stored.includes(id), 'the message is in Redis')
    t.notOk(stored.includes(API_KEY), 'the API key is not')
    t.notOk(stored.includes(USER_AGENT), 'nor the user agent')
    const job = JSON.parse((await client.hget(`bull:private:${id}`, 'data'))!)
    t.same(job.message.headers, { 'x-tenant': 't-1', 'content-type': 'application/json' }, 'the job holds the message\'s own headers alone')

    const { app: worker } = await durableApp({ socket: redis.socket, queueName: 'private', deliver: true, delivery })
    t.teardown(() => worker.close())
    await worker.ready()
    await receiver.arrived(1)
    t.match(receiver.received[0]!.headers, { 'x-api-key': API_KEY, 'user-agent': USER_AGENT, 'x-tenant': 't-1', 'content-type': 'application/json', 'webhook-id': id })
    await eventually(async () => (await client.hget(`bull:private:${id}`, 'finishedOn')) !== null, 'the delivery to be recorded')
    t.notOk((await everythingIn(client)).includes(API_KEY), 'nor once delivered')
  })
})
