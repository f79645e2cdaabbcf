import type { DeliveryStore, ScheduledAttempt } from './dispatcher.js'

/**
 * The default store: a Map in this process. It does not survive a restart: what is pending when the process ends is
 * lost, except what the plugin reports at close (the `onPending` hook). Each call scans every message, which suits
 * the queue of one process; a durable engine implements the same interface.
 */
export function createMemoryStore (): DeliveryStore {
  const messages = new Map<string, { scheduled: ScheduledAttempt, taken: boolean }>()
  return {
    add (scheduled) {
      messages.set(scheduled.message.id, { scheduled, taken: false })
    },
    take (now, limit) {
      // sort is stable: attempts due at the same time keep the order they were added in
      const waiting = [...messages.values()].filter(entry => !entry.taken).sort((a, b) => a.scheduled.runAt - b.scheduled.runAt)
      const due = waiting.filter(entry => entry.scheduled.runAt <= now).slice(0, limit)
      for (const entry of due) entry.taken = true
      return { due: due.map(entry => entry.scheduled), nextRunAt: waiting[due.length]?.scheduled.runAt }
    },
    remove (messageId) {
      messages.delete(messageId)
    },
    pending () {
      return [...messages.values()].map(entry => entry.scheduled)
    }
  }
}
