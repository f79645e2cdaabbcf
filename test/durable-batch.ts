// What the durable crash and worker tests share: a batch enqueued by an API process, and the check that it all arrived.
import type { Test } from 'tap'
import { Queue } from 'bullmq'
import { eventually } from './eventually.js'
import { durableApp } from './fixtures/durable-app.js'
import { startReceiver } from './receivers.js'
import type { Handler, Receiver } from './receivers.js'
import { startRedis } from './redis-server.js'

export const BATCH = 1000
// a worker that kills none keeps its locks long: see startWorker
export const CALM = 30_000

let queues = 0

/** A redis-server, a receiver and the API process (deliver: false) of a test, all closed when it ends. */
export async function setup (t: Test, handler?: Handler) {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const hooks = await startReceiver(handler)
  t.teardown(() => hooks.close())
  const queueName = `crash-${++queues}`
  const { app, webhooks } = await durableApp({ socket: redis.socket, queueName, deliver: false })
  t.teardown(() => app.close())
  await app.ready()
  /** Enqueues `count` messages; `ids[n]` is the id of the one whose body carries n. */
  const enqueue = async (count = BATCH): Promise<string[]> => {
    const ids: string[] = []
    for (let n = 0; n < count; n += 100) {
      const chunk = await Promise.all(Array.from({ length: Math.min(100, count - n) }, (_, i) => app.callbacks.enqueue(webhooks['invoice-paid']!, hooks.origin, { n: n + i })))
      ids.push(...chunk.map(({ id }) => id))
    }
    return ids
  }
  const queue = new Queue(queueName, { connection: redis.client() })
  t.teardown(() => queue.close())
  return { redis, hooks, queueName, enqueue, queue }
}

/** Every message arrived, each request with the webhook-id of the message whose body it carries; returns the duplicates. */
export async function allDelivered (t: Test, hooks: Receiver, ids: string[]): Promise<number> {
  await eventually(() => new Set(hooks.received.map(request => request.headers['webhook-id'])).size === ids.length,
    `all ${ids.length} messages to arrive (${hooks.received.length} requests so far)`, 60_000)
  const mismatched = hooks.received.filter(request => request.headers['webhook-id'] !== ids[JSON.parse(request.body).n])
  t.same(mismatched, [], 'every request carries its own message\'s webhook-id')
  t.same([...new Set(hooks.received.map(request => request.headers['webhook-id']))].sort(), [...ids].sort(), 'none lost')
  return hooks.received.length - ids.length
}
