// Several worker processes, and a worker stopped with SIGTERM: nothing lost, nothing duplicated.
import t from 'tap'
import { eventually } from './eventually.js'
import { allDelivered, BATCH, CALM, setup } from './durable-batch.js'
import { withRedis } from './redis-server.js'
import { startWorker } from './worker-process.js'

withRedis(() => {
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
})
