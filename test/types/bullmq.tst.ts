import { Redis } from 'ioredis'
import { expect, test } from 'tstyche'
import type { DeliveryEngine } from '../../lib/index.js'
import { bullmqEngine } from '../../lib/bullmq.js'
import type { BullmqEngine, MessageRecord, MessageState } from '../../lib/bullmq.js'

test('bullmqEngine() takes an ioredis client, its options or a URL, and gives a DeliveryEngine with operations', () => {
  expect(bullmqEngine({ connection: new Redis({ lazyConnect: true }) })).type.toBe<BullmqEngine>()
  expect(bullmqEngine({ connection: 'redis://127.0.0.1:6379', queueName: 'callbacks', keep: { failed: 86_400_000 } })).type.toBeAssignableTo<DeliveryEngine>()
  expect(bullmqEngine).type.toBeCallableWith({ connection: { path: '/tmp/redis.sock' }, lockDuration: 5000, maxStalledCount: 3 })
  expect(bullmqEngine).type.not.toBeCallableWith({})
  expect(bullmqEngine).type.not.toBeCallableWith({ connection: 6379 })
  expect(bullmqEngine).type.not.toBeCallableWith({ connection: 'redis://127.0.0.1:6379', keep: { waiting: 1 } })
})

test('the operations are typed', () => {
  const engine = bullmqEngine({ connection: 'redis://127.0.0.1:6379' })
  expect(engine.get('msg_1')).type.toBe<Promise<MessageRecord | undefined>>()
  expect(engine.replay('msg_1')).type.toBe<Promise<void>>()
  expect(engine.failed({ offset: 0, limit: 10 })).type.toBe<Promise<{ total: number, messages: MessageRecord[] }>>()
  expect<MessageRecord['state']>().type.toBe<MessageState>()
  expect(engine.failed).type.not.toBeCallableWith({ page: 2 })
})
