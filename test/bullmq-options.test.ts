import { test } from 'tap'
import { Redis } from 'ioredis'
import { normaliseBullmqOptions } from '../lib/delivery/engines/bullmq-options.js'

// each option's bad values: test/options.test.ts

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
