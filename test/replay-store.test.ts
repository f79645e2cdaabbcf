import { test } from 'tap'
import fc from 'fast-check'
import { createReplayMemoryStore } from '../lib/standard-webhooks/replay-store.js'

/** A store on a clock the test moves. */
function storeAt (maxEntries: number) {
  const clock = { now: 0 }
  return { clock, store: createReplayMemoryStore(maxEntries, () => clock.now) }
}

const FULL = /holds its maximum of \d+ message ids still within the tolerance/

test('an id held longer than the ids after it does not keep them from expiring', async (t) => {
  const { clock, store } = storeAt(2)
  // a timestamp ahead of the clock, within the tolerance: held longer than the ids that come after it
  t.equal(store.seen('ahead', 10_000), false)
  t.equal(store.seen('soon', 1_000), false)
  t.throws(() => store.seen('third', 1_000), FULL, 'two ids within their time: full')
  clock.now = 1_000
  t.equal(store.seen('third', 1_000), false, '"soon" expired and made room, though "ahead" came before it')
  t.equal(store.seen('ahead', 1_000), true, '"ahead" is still held')
  t.throws(() => store.seen('soon', 1_000), FULL, 'full again: "ahead" and "third" are both within their time')
  clock.now = 10_000
  t.equal(store.seen('soon', 1_000), false)
  t.equal(store.seen('ahead', 1_000), false, 'expired at last, so it is a new message')
})

// a model as plain as can be: every id with its expiry, scanned whole at each call
function modelAt (maxEntries: number) {
  const expiries = new Map<string, number>()
  return {
    seen (id: string, ttlMs: number, now: number): boolean | 'full' {
      if ((expiries.get(id) ?? -Infinity) > now) return true
      const held = [...expiries.values()].filter(expiry => expiry > now).length
      if (held >= maxEntries) return 'full'
      expiries.set(id, now + ttlMs)
      return false
    },
    forget (id: string): void { expiries.delete(id) }
  }
}

test('whatever the order of ttls, the store answers as a model that counts only unexpired ids (property)', async (t) => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('seen' as const), id: fc.integer({ min: 0, max: 9 }), ttl: fc.integer({ min: 1, max: 3_000 }) }),
    fc.record({ kind: fc.constant('forget' as const), id: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 2_000 }) })
  )
  fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(step, { maxLength: 60 }), (maxEntries, steps) => {
    const { clock, store } = storeAt(maxEntries)
    const model = modelAt(maxEntries)
    for (const action of steps) {
      if (action.kind === 'wait') {
        clock.now += action.ms
      } else if (action.kind === 'forget') {
        store.forget(`id${action.id}`)
        model.forget(`id${action.id}`)
      } else {
        let answer: boolean | 'full'
        try {
          answer = store.seen(`id${action.id}`, action.ttl) as boolean
        } catch {
          answer = 'full'
        }
        if (answer !== model.seen(`id${action.id}`, action.ttl, clock.now)) return false
      }
    }
    return true
  }), { numRuns: 2000 })
  t.pass('2000 runs agree with the model')
})

test('many forgotten ids leave the store answering as before', async (t) => {
  const { clock, store } = storeAt(10_000)
  t.equal(store.seen('kept', 5_000), false)
  // far more forgotten ids than held ones: the store drops what it kept of them
  const answers = new Set<boolean>()
  for (let index = 0; index < 3_000; index++) {
    answers.add(store.seen(`gone${index}`, 60_000) as boolean)
    store.forget(`gone${index}`)
  }
  t.same([...answers], [false], 'each a new message')
  t.equal(store.seen('kept', 5_000), true, 'an id held all along is still held')
  t.equal(store.seen('gone7', 60_000), false, 'a forgotten id is accepted again, and held')
  clock.now = 5_000
  t.equal(store.seen('kept', 5_000), false, 'the held id expires on time')
  t.equal(store.seen('gone7', 60_000), true)
  clock.now = 60_000
  t.equal(store.seen('gone7', 1), false, 'and so does the one held again')
})
