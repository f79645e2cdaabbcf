import type { DeliveryStore, ScheduledAttempt } from '../dispatcher.js'

interface Entry { scheduled: ScheduledAttempt, order: number }

/**
 * The default store: a Map in this process. It does not survive a restart: what is pending when the process ends is
 * lost, except what the plugin reports at close (the `onPending` hook). Waiting attempts sit in a binary heap by due
 * time, so taking what is due costs O(log n) per attempt however long the queue; a durable engine implements the
 * same interface.
 */
export function createMemoryStore (): DeliveryStore {
  // every message not yet finished; its current entry, or none once taken and not added again
  const messages = new Map<string, { scheduled: ScheduledAttempt, waiting: Entry | undefined }>()
  // entries replaced or taken stay in the heap until they surface, and are skipped then
  const heap: Entry[] = []
  let added = 0

  // earlier first; attempts due at the same time keep the order they were added in
  const before = (a: Entry, b: Entry): boolean => a.scheduled.runAt < b.scheduled.runAt || (a.scheduled.runAt === b.scheduled.runAt && a.order < b.order)

  function push (entry: Entry): void {
    let index = heap.push(entry) - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(heap[index]!, heap[parent]!)) break
      ;[heap[index], heap[parent]] = [heap[parent]!, heap[index]!]
      index = parent
    }
  }

  function pop (): void {
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    let index = 0
    for (;;) {
      const left = index * 2 + 1
      const right = left + 1
      let first = index
      if (left < heap.length && before(heap[left]!, heap[first]!)) first = left
      if (right < heap.length && before(heap[right]!, heap[first]!)) first = right
      if (first === index) return
      ;[heap[index], heap[first]] = [heap[first]!, heap[index]!]
      index = first
    }
  }

  /** The earliest entry still waiting, after dropping the stale ones above it. */
  function earliest (): Entry | undefined {
    while (heap.length > 0 && messages.get(heap[0]!.scheduled.message.id)?.waiting !== heap[0]) pop()
    return heap[0]
  }

  return {
    add (scheduled) {
      const entry = { scheduled, order: added++ }
      messages.set(scheduled.message.id, { scheduled, waiting: entry })
      push(entry)
    },
    take (now, limit) {
      const due: ScheduledAttempt[] = []
      let next = earliest()
      while (next !== undefined && due.length < limit && next.scheduled.runAt <= now) {
        messages.get(next.scheduled.message.id)!.waiting = undefined
        due.push(next.scheduled)
        pop()
        next = earliest()
      }
      return { due, nextRunAt: next?.scheduled.runAt }
    },
    remove (messageId) {
      messages.delete(messageId)
    },
    pending () {
      return [...messages.values()].map(({ scheduled }) => scheduled)
    }
  }
}
