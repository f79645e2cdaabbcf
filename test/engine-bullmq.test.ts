// The BullMQ engine passes the engine conformance suite, on a real redis-server.
import { bullmqEngine } from '../lib/bullmq.js'
import { engineConformance } from './engines/conformance.js'
import { startRedis, withRedis } from './redis-server.js'
import type { RedisServer } from './redis-server.js'

let redis: RedisServer | undefined

engineConformance({
  name: 'the BullMQ engine',
  needs: withRedis,
  setup: async () => { redis = await startRedis() },
  teardown: async () => { await redis?.stop() },
  // the socket's path as a string: the engine makes its own client from it
  make: store => bullmqEngine({ connection: redis!.socket, queueName: store }),
  capabilities: { clock: false, durable: true, operations: true }
})
