import { test } from 'tap'
import { createMemoryStore } from '../lib/index.js'
import type { QueuedMessage, ScheduledAttempt } from '../lib/index.js'

const message = (id: string): QueuedMessage => ({ id, definition: undefined as any, target: undefined as any, body: undefined, enqueuedAt: 0 })
const at = (id: string, runAt: number, attempt = 1): ScheduledAttempt => ({ message: message(id), attempt, runAt })
const ids = (attempts: ScheduledAttempt[]): string[] => attempts.map(({ message }) => message.id)

test('takes what is due, earliest first, ties in the order added, up to the limit', async (t) => {
  const store = createMemoryStore()
  for (const [id, runAt] of [['c', 30], ['a', 10], ['b', 10], ['d', 40], ['e', 10]] as const) store.add(at(id, runAt))
  t.same(store.take(5, 10), { due: [], nextRunAt: 10 }, 'nothing due yet')
  const first = store.take(30, 2) as { due: ScheduledAttempt[], nextRunAt: number }
  t.same(ids(first.due), ['a', 'b'])
  t.equal(first.nextRunAt, 10)
  const second = store.take(30, 10) as { due: ScheduledAttempt[], nextRunAt: number }
  t.same(ids(second.due), ['e', 'c'])
  t.equal(second.nextRunAt, 40)
  t.same(ids(store.pending() as ScheduledAttempt[]).sort(), ['a', 'b', 'c', 'd', 'e'], 'taken attempts stay pending until removed or added again')
})

test('adding again replaces the waiting attempt; removing forgets the message', async (t) => {
  const store = createMemoryStore()
  store.add(at('a', 10))
  store.add(at('b', 20))
  store.add(at('a', 50, 2))
  store.remove('b')
  const taken = store.take(100, 10) as { due: ScheduledAttempt[], nextRunAt: undefined }
  t.same(taken.due.map(({ message, attempt, runAt }) => [message.id, attempt, runAt]), [['a', 2, 50]], 'the replaced and the removed entries are skipped')
  t.equal(taken.nextRunAt, undefined)
  store.add(at('a', 60, 3))
  t.same(ids((store.take(100, 10) as { due: ScheduledAttempt[] }).due), ['a'], 'a taken message added again waits again')
  store.remove('a')
  t.same(store.pending(), [])
})

test('a long queue is taken in due order', async (t) => {
  const store = createMemoryStore()
  const count = 100_000
  // a fixed permutation of the due times, so the heap sees them out of order
  for (let index = 0; index < count; index++) store.add(at(`m${index}`, (index * 7919) % count))
  let previous = -1
  let taken = 0
  let ordered = true
  for (;;) {
    const { due } = store.take(count, 1000) as { due: ScheduledAttempt[] }
    if (due.length === 0) break
    for (const { runAt } of due) {
      if (runAt < previous) ordered = false
      previous = runAt
    }
    taken += due.length
  }
  t.equal(taken, count)
  t.ok(ordered, 'every attempt came out no earlier than the one before')
})
