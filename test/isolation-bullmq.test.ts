import t from 'tap'
import { bullmqEngine } from '../lib/bullmq.js'
import { isolationSuite } from './isolation-suite.js'
import { startRedis, withRedis } from './redis-server.js'
import type { RedisServer } from './redis-server.js'

withRedis(() => {
  let redis: RedisServer
  let queues = 0
  t.before(async () => { redis = await startRedis() })
  t.teardown(() => redis?.stop())
  isolationSuite(t, { name: 'BullMQ engine', make: () => bullmqEngine({ connection: { path: redis.socket }, queueName: `isolation-${++queues}` }) })
})
