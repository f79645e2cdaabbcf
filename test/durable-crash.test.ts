// Worker processes and Redis killed (SIGKILL) or stopped (SIGTERM) in the middle of deliveries: nothing enqueued is lost.
import t from 'tap'
import type { Test } from 'tap'
import { Queue } from 'bullmq'
import { eventually } from './eventually.js'
import { durableApp } from './fixtures/durable-app.js'
import { startReceiver } from './receivers.js'
import type { Handler, Receiver } from './receivers.js'
import { startRedis, withRedis } from './redis-server.js'
import { startWorker } from './worker-process.js'

const BATCH = 1000
// a worker that kills none keeps its locks long: see startWorker
const CALM = 30_000

withRedis(() => {
  let queues = 0

  async function setup (t: Test, handler?: Handler) {
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
  async function allDelivered (t: Test, hooks: Receiver, ids: string[]): Promise<number> {
    await eventually(() => new Set(hooks.received.map(request => request.headers['webhook-id'])).size === ids.length,
      `all ${ids.length} messages to arrive (${hooks.received.length} requests so far)`, 60_000)
    const mismatched = hooks.received.filter(request => request.headers['webhook-id'] !== ids[JSON.parse(request.body).n])
    t.same(mismatched, [], 'every request carries its own message\'s webhook-id')
    t.same([...new Set(hooks.received.map(request => request.headers['webhook-id']))].sort(), [...ids].sort(), 'none lost')
    return hooks.received.length - ids.length
  }

  t.test(`kill -9 of a worker process in the middle of ${BATCH} messages: none lost, duplicates only of attempts in flight`, async t => {
    const { redis, hooks, queueName, enqueue, queue } = await setup(t)
    const first = await startWorker(t, redis.socket, queueName)
    const ids = await enqueue()
    await eventually(() => hooks.received.length >= BATCH / 4, 'a quarter delivered')
    await first.kill()
    // the dead worker's jobs stay active until their locks expire: those are the attempts it had in flight
    const inFlight = await queue.getActiveCount()
    t.ok(inFlight > 0, `${inFlight} attempts in flight when it died`)
    await startWorker(t, redis.socket, queueName)
    const duplicates = await allDelivered(t, hooks, ids)
    t.ok(duplicates <= inFlight, `${duplicates} duplicate(s), no more than the ${inFlight} attempts in flight`)
  })

  t.test('a message whose worker dies twice mid-attempt is still delivered (maxStalledCount raised)', async t => {
    // the first two requests are never answered: each worker dies while its attempt waits
    let arrivals = 0
    const { redis, hooks, queueName, enqueue } = await setup(t, (_, response) => {
      if (++arrivals > 2) response.writeHead(200).end()
    })
    const first = await startWorker(t, redis.socket, queueName)
    const [id] = await enqueue(1)
    await eventually(() => arrivals === 1, 'the first attempt')
    await first.kill()
    const second = await startWorker(t, redis.socket, queueName)
    await eventually(() => arrivals === 2, 'the attempt to run again once the first worker\'s lock expired')
    await second.kill()
    const third = await startWorker(t, redis.socket, queueName)
    await eventually(() => arrivals === 3, 'the attempt to run again once the second worker\'s lock expired')
    t.same(hooks.received.map(request => request.headers['webhook-id']), [id, id, id], 'three runs of one attempt, one webhook-id')
    t.equal(await third.stop(), 0, 'the last worker closes cleanly')
  })

  t.test('two worker processes share a batch: none lost, none duplicated', async t => {
    const { redis, hooks, queueName, enqueue } = await setup(t)
    const workers = [await startWorker(t, redis.socket, queueName, CALM), await startWorker(t, redis.socket, queueName, CALM)]
    const ids = await enqueue()
    await allDelivered(t, hooks, ids)
    t.same(await Promise.all(workers.map(worker => worker.stop())), [0, 0], 'both close cleanly')
    t.equal(hooks.received.length, BATCH, 'each message arrived once')
  })

  t.test('SIGTERM: a worker lets its attempts in flight finish and records them; the next worker delivers the rest, once each', async t => {
    const answered: string[] = []
    const { redis, hooks, queueName, enqueue } = await setup(t, (request, response) => {
      setTimeout(() => {
        answered.push(request.headers['webhook-id'] as string)
        response.writeHead(200).end()
      }, 50)
    })
    const first = await startWorker(t, redis.socket, queueName, CALM)
    const ids = await enqueue(300)
    await eventually(() => hooks.received.length >= 50, '50 requests')
    t.equal(await first.stop(), 0, 'the worker closes cleanly')
    t.equal(answered.length, hooks.received.length, 'every attempt in flight was answered before the worker exited')
    t.ok(hooks.received.length < ids.length, 'it left messages for the next worker')
    await startWorker(t, redis.socket, queueName, CALM)
    t.equal(await allDelivered(t, hooks, ids), 0, 'no duplicate: each attempt in flight at close was recorded')
  })

  t.test('kill -9 of Redis mid-batch, restarted from its append-only file: none lost', async t => {
    const { redis, hooks, queueName, enqueue } = await setup(t)
    await startWorker(t, redis.socket, queueName)
    const ids = await enqueue()
    await eventually(() => hooks.received.length >= BATCH / 4, 'a quarter delivered')
    await redis.kill()
    await redis.restart()
    await allDelivered(t, hooks, ids)
  })
})
