// Worker processes and Redis killed with SIGKILL in the middle of deliveries: nothing enqueued is lost.
import t from 'tap'
import { eventually } from './eventually.js'
import { allDelivered, BATCH, setup } from './durable-batch.js'
import { withRedis } from './redis-server.js'
import { startWorker } from './worker-process.js'

withRedis(() => {
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
