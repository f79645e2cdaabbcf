import { test } from 'tap'
import { Redis } from 'ioredis'
import { bullmqEngine } from '../lib/bullmq.js'
import type { BullmqEngineOptions } from '../lib/bullmq.js'
import { normaliseBullmqOptions } from '../lib/delivery/engines/bullmq-options.js'

const connection = 'redis://127.0.0.1:6379'

test('bullmqEngine() checks its options once, with a coded error that says what is wrong', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /the options must be an object with a `connection`/],
    [{ connection, retries: 3 }, /unknown option "retries"/],
    [{ connection: 6379 }, /connection must be an ioredis client, its options or a redis:\/\/ URL/],
    [{}, /connection must be/],
    [{ connection, queueName: '' }, /queueName must be a non-empty string/],
    [{ connection, prefix: 'a b' }, /prefix must be a non-empty string/],
    [{ connection, keep: 1 }, /keep must be an object/],
    [{ connection, keep: { completed: 1000, waiting: 1 } }, /unknown option "keep.waiting"/],
    [{ connection, keep: { failed: 0 } }, /keep.failed must be a whole number of milliseconds from 1 up, not 0/],
    [{ connection, lockDuration: 1.5 }, /lockDuration must be a whole number of milliseconds/],
    [{ connection, stalledInterval: '30s' }, /stalledInterval must be/],
    [{ connection, maxStalledCount: 0 }, /maxStalledCount must be a whole number from 1 up, not 0/],
    [{ connection, timeout: -1 }, /timeout must be/]
  ]
  for (const [options, message] of cases) {
    t.throws(() => bullmqEngine(options as BullmqEngineOptions), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS', message }, message.source)
  }
})

test('defaults: retention of 1 day and 7 days, BullMQ\'s lock timings, stalls tolerated 10 times', async t => {
  const client = new Redis({ lazyConnect: true })
  t.match(normaliseBullmqOptions({ connection: client }), {
    connection: client,
    queueName: 'fastify-openapi-callbacks',
    prefix: 'bull',
    keep: { completed: 86_400_000, failed: 604_800_000 },
    lockDuration: 30_000,
    stalledInterval: 30_000,
    maxStalledCount: 10,
    unknownKeyLimit: 86_400_000,
    timeout: 10_000
  })
  t.match(normaliseBullmqOptions({ connection: { path: '/tmp/redis.sock' }, keep: { completed: 5000 } }), { connection: { path: '/tmp/redis.sock' }, keep: { completed: 5000, failed: 604_800_000 } })
})
