import t from 'tap'
import { createMemoryEngine } from '../lib/index.js'
import { isolationApp, isolationSuite } from './isolation-suite.js'

isolationSuite(t, { name: 'memory engine', make: () => createMemoryEngine() })

// the memory engine's own bound: how many messages one receiver may keep waiting
t.test('maxPendingPerReceiver: a receiver with its most waiting refuses more, naming it, while the others still queue', async t => {
  const { app, event } = await isolationApp(t, createMemoryEngine({ maxPendingPerReceiver: 3 }), { schedule: [3_600_000], onPending: () => {} })
  for (let n = 0; n < 3; n++) await app.callbacks.enqueue(event, 'http://127.0.0.1:9/a', { n })
  await t.rejects(app.callbacks.enqueue(event, 'http://127.0.0.1:9/b', { n: 4 }), {
    code: 'FST_OPENAPI_CALLBACKS_RECEIVER_QUEUE_FULL',
    message: /The receiver http:\/\/127\.0\.0\.1:9 has 3 messages waiting/
  }, 'the same origin, another path: the same receiver')
  t.ok(await app.callbacks.enqueue(event, 'http://127.0.0.1:10/a', { n: 5 }), 'another port is another receiver')
  const results = await app.callbacks.fanOut(event, ['http://127.0.0.1:9/c', 'http://127.0.0.1:11/c'], { n: 6 })
  t.equal(results[0]!.ok ? undefined : results[0]!.error.code, 'FST_OPENAPI_CALLBACKS_RECEIVER_QUEUE_FULL', 'in a fan-out, the full receiver fails alone')
  t.ok(results[1]!.ok)
})

t.test('a receiver is its origin, however many of its URLs are queued', async t => {
  const { app, event } = await isolationApp(t, createMemoryEngine({ maxPendingPerReceiver: 5_000 }), { schedule: [3_600_000], onPending: () => {} })
  for (let n = 0; n < 5_000; n++) await app.callbacks.enqueue(event, `https://hooks.example.com/tenants/${n}`, { n })
  await t.rejects(app.callbacks.enqueue(event, 'https://hooks.example.com/tenants/last', { n: 0 }), { code: 'FST_OPENAPI_CALLBACKS_RECEIVER_QUEUE_FULL' })
})

t.test('the engine options refuse a per-receiver limit that is not a whole number from 1', async t => {
  for (const maxPendingPerReceiver of [0, 1.5, Number.NaN]) {
    t.throws(() => createMemoryEngine({ maxPendingPerReceiver }), { code: 'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS' }, String(maxPendingPerReceiver))
  }
})
