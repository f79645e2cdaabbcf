import { DelayedError, Queue, UnrecoverableError, Worker } from 'bullmq'
import type { Job, JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { readMessage } from '../message.js'
import type { DeliveryMessage, ReadMessage } from '../message.js'
import type { AttemptResult } from '../sender.js'
import type { AttemptStep, DeliveryEngine, EngineContext } from './engine.js'
import { normaliseBullmqOptions } from './bullmq-options.js'
import type { BullmqEngineOptions } from './bullmq-options.js'
import { checkRedisConfig } from './redis-config.js'
import { createDeadline } from '../../util/deadline.js'
import { InvalidEngineOptionsError, InvalidPageError, MessageNotFoundError, ReplayRefusedError, StalledError, StoreTimeoutError, UnreadableMessageError } from '../../util/errors.js'
import { isObject } from '../../util/json.js'

/**
 * The last attempt's result, as Redis keeps it. `unknown-key`: it ended waiting for a process that knew its key;
 * `unreadable`: its data is no message (attempt 0: none was made).
 */
export interface AttemptSummary {
  /** The attempt's number: 1 for the first. */
  attempt: number
  outcome: AttemptResult['outcome'] | 'unknown-key' | 'unreadable'
  statusCode?: number
  error?: { code: string, message: string }
  /** Epoch milliseconds. */
  at: number
}

/**
 * Where a message is. `waiting`/`delayed`: due now or later; `active`: an attempt is in flight. The others are ends:
 * `stalled` is a message BullMQ failed because its workers died mid-attempt more than maxStalledCount times;
 * `unreadable`, one whose data is no message.
 */
export type MessageState = 'waiting' | 'delayed' | 'active' | 'delivered' | 'contract-violation' | 'failed' | 'gone' | 'exhausted' | 'unknown-key' | 'stalled' | 'unreadable'

export interface MessageRecord {
  id: string
  /** undefined when `message` is. */
  key: string | undefined
  state: MessageState
  /** Attempts made so far. */
  attempts: number
  /**
   * As it runs next (or ran last); undefined when it cannot be read here: unreadable, or of a newer format than this
   * release knows (it waits for a process that knows it).
   */
  message: DeliveryMessage | undefined
  last: AttemptSummary | undefined
}

export interface BullmqEngine extends DeliveryEngine {
  /** A kept message by its id (the webhook-id), or undefined. */
  get (id: string): Promise<MessageRecord | undefined>
  /** Runs a message that ended failed, gone, exhausted, unknown-key or stalled again from its first attempt, with the same webhook-id. */
  replay (id: string): Promise<void>
  /** The messages that ended failed, gone, exhausted, unknown-key or stalled, newest first, `limit` from `offset`. */
  failed (page?: { offset?: number, limit?: number }): Promise<{ total: number, messages: MessageRecord[] }>
}

interface JobData {
  message: DeliveryMessage
  last?: AttemptSummary
  /** How the plugin ended it: `last` says how its last attempt went, which differs for an exhausted message. */
  end?: MessageState
  /** Set once a message of a newer format has been reported here. */
  newerReported?: true
}

type FinalStep = Extract<AttemptStep, { type: 'final' }>
type MessageJob = Job<JobData, AttemptSummary>

// a plain failure (Redis failed while recording) is retried by BullMQ after recordRetryDelay; the policy's own ends are
// UnrecoverableErrors, so this bound is never reached
const RECORD_ATTEMPTS = 1e9
function drop (connection: Redis): void {
  if (connection.status !== 'end') connection.disconnect()
}

// a message of a newer format is run again this often: a rolling deploy brings a process that knows its format
const NEWER_FORMAT_RETRY = 30_000

/** A job's message, read from whatever Redis holds: a job written by another release, or damaged, may hold anything. */
function readJob (job: MessageJob): ReadMessage {
  const data: unknown = job.data
  return isObject(data) ? readMessage(data.message) : { state: 'unreadable', fault: 'the job data is not an object' }
}

// what ioredis reports while Redis cannot be reached, once per connection and reconnect
const CONNECTION_FAULTS: ReadonlySet<unknown> = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

const UNREADABLE = new UnreadableMessageError('', '').code

/** The summary of a failed job that held no message; BullMQ sets finishedOn when it fails a job. */
function unreadableSummary (job: MessageJob): AttemptSummary {
  return { attempt: 0, outcome: 'unreadable', error: { code: UNREADABLE, message: job.failedReason }, at: job.finishedOn! }
}
const PENDING_STATES: Record<string, MessageState> = { waiting: 'waiting', prioritized: 'waiting', 'waiting-children': 'waiting', delayed: 'delayed', active: 'active' }

/**
 * Durable delivery on BullMQ and Redis: a message is a job whose id is its webhook-id, so enqueuing it twice keeps one.
 * The plugin's step decides everything; this engine stores the next message and its delay (a retry or a postpone is
 * never a BullMQ attempt: a stalled attempt is run again with the same number).
 */
export function bullmqEngine (options: BullmqEngineOptions): BullmqEngine {
  const settings = normaliseBullmqOptions(options)
  const { connection, queueName, prefix, keep, timeout } = settings
  const backoff = { type: 'fixed', delay: settings.recordRetryDelay }
  const removeOnComplete = { age: Math.ceil(keep.completed / 1000) }
  const removeOnFail = { age: Math.ceil(keep.failed / 1000) }
  // the context's log once opened; operations run without it
  let context: EngineContext | undefined
  let client: Redis | undefined
  let queue: Queue<JobData, AttemptSummary> | undefined
  let worker: Worker<JobData, AttemptSummary> | undefined
  const running = new Set<Promise<unknown>>()
  // the step of a job's last run, until BullMQ has recorded its end: then the plugin reports it
  const finals = new WeakMap<MessageJob, FinalStep>()
  // the same for a job whose data is no message
  const unreadables = new WeakMap<MessageJob, InstanceType<typeof UnreadableMessageError>>()

  const log = (): FastifyBaseLogger | undefined => context?.log
  const deadline = createDeadline(timeout, what => new StoreTimeoutError(what, timeout))

  // the connections BullMQ opens from the client (the worker's blocking one): ended at close, even when Redis is gone
  const duplicates = new Set<Redis>()

  // since when Redis cannot be reached (monotonic): an outage is logged when it starts and when it ends, not at every reconnect
  let lostSince: number | undefined
  function reported (source: string) {
    return (error: Error): void => {
      if (!CONNECTION_FAULTS.has((error as { code?: unknown }).code)) {
        log()?.error({ err: error }, `the BullMQ ${source} reported an error`)
        return
      }
      if (lostSince !== undefined) return
      lostSince = performance.now()
      log()?.error({ err: error }, 'lost the connection to Redis; reconnecting, and saying so once it is back')
    }
  }

  function redis (): Redis {
    if (client !== undefined) return client
    // BullMQ would load ioredis itself, which it cannot under native ESM: it always gets a client
    const made = connection instanceof Redis
      ? connection
      : typeof connection === 'string'
        ? new Redis(connection, { maxRetriesPerRequest: null })
        : new Redis({ ...connection, maxRetriesPerRequest: null })
    const duplicate = made.duplicate.bind(made)
    made.duplicate = (...args) => {
      const copy = duplicate(...args)
      duplicates.add(copy)
      return copy
    }
    made.on('ready', () => {
      if (lostSince === undefined) return
      log()?.warn({ downFor: Math.round(performance.now() - lostSince) }, 'the connection to Redis is back')
      lostSince = undefined
    })
    client = made
    return client
  }

  function theQueue (): Queue<JobData, AttemptSummary> {
    if (queue === undefined) {
      queue = new Queue<JobData, AttemptSummary>(queueName, { connection: redis(), prefix })
      queue.on('error', reported('queue'))
    }
    return queue
  }

  /**
   * `state`: BullMQ's. A completed job's summary is its return value; a failed one's was stored with it, and its end
   * too, unless BullMQ failed it by itself: for stalling.
   */
  function record (job: MessageJob, state: string): MessageRecord {
    const read = readJob(job)
    const message = read.state === 'readable' ? read.message : undefined
    const last = state === 'completed'
      ? job.returnvalue
      : read.state === 'unreadable'
        // no message to keep a summary in: the end is BullMQ's failure
        ? (state === 'failed' ? unreadableSummary(job) : undefined)
        : job.data.last
    const ended: MessageState = state === 'completed' ? last!.outcome as MessageState : read.state === 'unreadable' ? 'unreadable' : job.data.end ?? 'stalled'
    return {
      id: job.id!,
      key: message?.key,
      state: PENDING_STATES[state] ?? ended,
      attempts: last?.attempt ?? 0,
      message,
      last
    }
  }

  function summarise (attempt: number, result: AttemptResult): AttemptSummary {
    // properties added to a literal, not spread into it: a spread followed by more properties is a slow copy in V8
    const summary: AttemptSummary = { attempt, outcome: result.outcome, at: Date.now() }
    if (result.statusCode !== undefined) summary.statusCode = result.statusCode
    if (result.outcome !== 'delivered') summary.error = { code: result.error.code, message: result.error.message }
    return summary
  }

  /** Keeps `data` (undefined: as it is) and runs the job again after `delay`: not a BullMQ attempt. */
  async function later (job: MessageJob, token: string | undefined, data: JobData | undefined, delay: number): Promise<never> {
    if (data !== undefined) await deadline(job.updateData(data), `while recording message ${job.id}`)
    await deadline(job.moveToDelayed(Date.now() + Math.max(0, Math.round(delay)), token), `while recording message ${job.id}`)
    throw new DelayedError()
  }

  async function run (job: MessageJob, token: string | undefined, ctx: EngineContext): Promise<AttemptSummary> {
    const read = readJob(job)
    if (read.state === 'unreadable') {
      const error = new UnreadableMessageError(job.id!, read.fault)
      unreadables.set(job, error)
      throw new UnrecoverableError(error.message)
    }
    if (read.state === 'newer') {
      if (job.data.newerReported !== true) {
        ctx.log.error({ messageId: job.id, version: read.version }, `message ${job.id} waits for a process of the release that wrote it: ${read.fault}`)
      }
      return await later(job, token, { ...job.data, newerReported: true }, NEWER_FORMAT_RETRY)
    }
    const { message } = read
    const { last } = job.data
    const step = await ctx.run(message)
    if (step.type === 'retry') return await later(job, token, { message: step.message, last: summarise(message.attempt, step.result) }, step.delay)
    if (step.type === 'postpone') {
      // its receiver could not take it now: the job waits as it is, and BullMQ's slot goes to another receiver's
      if (step.reason === 'receiver') return await later(job, token, undefined, step.delay)
      const since = step.message.unknownSince
      if (step.reason === 'unknown-key' && since !== undefined && Date.now() - since >= settings.unknownKeyLimit) {
        const at = Date.now()
        await deadline(job.updateData({ message: step.message, last: { attempt: message.attempt - 1, outcome: 'unknown-key', at }, end: 'unknown-key' }), `while recording message ${job.id}`)
        ctx.log.error({ messageId: message.id, key: message.key, unknownSince: new Date(since).toISOString() },
          `no process knew the key "${message.key}" for ${Math.round((at - since) / 1000)} s; the message ended as unknown-key: replay it once workers know the key`)
        throw new UnrecoverableError(`unknown-key: no process knows the key "${message.key}"`)
      }
      // a `last` still undefined is left out of the JSON Redis keeps
      return await later(job, token, { message: step.message, last }, step.delay)
    }
    const summary = summarise(message.attempt, step.result)
    finals.set(job, step)
    if (step.outcome === 'delivered' || step.outcome === 'contract-violation') return summary
    await deadline(job.updateData({ message: step.message, last: summary, end: step.outcome }), `while recording message ${job.id}`)
    throw new UnrecoverableError(`${step.outcome}: ${summary.error?.message}`)
  }

  /** The end of a message BullMQ failed for stalling, reported as the plugin reports its own: an error log, then onOutcome. */
  function stalledOut (job: MessageJob, message: DeliveryMessage, ctx: EngineContext): FinalStep {
    const error = new StalledError(settings.maxStalledCount)
    ctx.log.error({ messageId: message.id, key: message.key, attempt: message.attempt, err: error }, 'a message ended as stalled: replay it once its workers are healthy')
    return { type: 'final', outcome: 'stalled', message, result: { outcome: 'retryable', statusCode: undefined, error } }
  }

  return {
    async open (ctx) {
      context = ctx
      const ready = async (): Promise<void> => {
        await theQueue().waitUntilReady()
        await checkRedisConfig(redis(), ctx.log)
      }
      await deadline(ready(), 'at open()')
    },

    async add (message, delay) {
      const data: JobData = { message }
      // one literal, no spread: a property added after a spread costs V8 a slow copy of the object
      const jobOptions: JobsOptions = { attempts: RECORD_ATTEMPTS, backoff, removeOnComplete, removeOnFail, jobId: message.id, delay: Math.max(0, Math.round(delay)) }
      await deadline(theQueue().add(message.key, data, jobOptions), `while enqueuing message ${message.id}`)
    },

    async work () {
      const ctx = context!
      if (redis().options.maxRetriesPerRequest !== null) {
        throw new InvalidEngineOptionsError('a client given as `connection` must have maxRetriesPerRequest: null to deliver (BullMQ\'s workers wait on Redis without a bound)')
      }
      worker = new Worker<JobData, AttemptSummary>(queueName, (job, token) => {
        const attempt = run(job, token, ctx)
        const settle = (): void => { running.delete(attempt) }
        running.add(attempt)
        attempt.then(settle, settle)
        return attempt
      }, {
        connection: redis(),
        prefix,
        concurrency: ctx.concurrency,
        lockDuration: settings.lockDuration,
        stalledInterval: settings.stalledInterval,
        maxStalledCount: settings.maxStalledCount
      })
      worker.on('completed', job => {
        const step = finals.get(job)
        if (step !== undefined) ctx.finished(step)
      })
      worker.on('failed', (job, error) => {
        // BullMQ may report a failure without its job; a WeakMap has nothing under undefined
        const step = finals.get(job as MessageJob)
        const unreadable = unreadables.get(job as MessageJob)
        if (step !== undefined) ctx.finished(step)
        else if (unreadable !== undefined) ctx.unreadable(job!.id!, unreadable)
        // BullMQ's own end of a job that stalled past maxStalledCount, on the run after: no step of the plugin's
        else if (job?.deferredFailure !== undefined) {
          const read = readJob(job)
          if (read.state === 'readable') ctx.finished(stalledOut(job, read.message, ctx))
          // a job that holds no message (a newer format's, or damaged) stalls when its worker dies before it could end it
          else ctx.unreadable(job.id!, new UnreadableMessageError(job.id!, `it stalled, and ${read.fault}`))
        } else if (!(error instanceof UnrecoverableError)) {
          ctx.log.error({ err: error, messageId: job?.id }, `an attempt could not be recorded in Redis; the message runs again in ${settings.recordRetryDelay} ms`)
        }
      })
      worker.on('stalled', jobId => { ctx.log.warn({ messageId: jobId }, 'an attempt stalled (its worker died or was blocked); the message runs again') })
      worker.on('error', reported('worker'))
      await deadline(worker.waitUntilReady(), 'when the worker started')
    },

    async close () {
      // stops fetching at once; the attempts in flight end within the plugin's closeGrace, and are recorded
      const stopped = Promise.all([worker?.close(), queue?.close()])
      await Promise.allSettled(running)
      try {
        await deadline(stopped, 'at close()')
      } catch (error) {
        log()?.error({ err: error }, 'Redis did not answer at close; the connections are dropped, and attempts not recorded run again')
        // BullMQ's own close waits for Redis without a bound: its sockets are dropped instead, without waiting
        for (const closable of [worker, queue]) closable?.disconnect().catch(() => {})
        // and BullMQ's worker.close() never gets to stop its own timers (lock renewal, stalled check), which would keep
        // the process alive: stopped here, by the fields BullMQ 6 gives them (checked by a test whose process must exit)
        const internals = worker as unknown as { lockManager?: { close: () => Promise<void> }, stalledCheckStopper?: () => void } | undefined
        internals?.lockManager?.close().catch(() => {})
        internals?.stalledCheckStopper?.()
      }
      // disconnect, not quit: a quit waits for a Redis that may be gone, and ioredis would reconnect to it forever. Not a
      // connection BullMQ has ended: ioredis would end its closed socket again and wait 2 s (a timer) for a 'close' that never comes
      for (const duplicate of duplicates) drop(duplicate)
      if (client !== undefined && client !== connection) drop(client)
    },

    async pending () {
      // Redis keeps them
      return []
    },

    async get (id) {
      const job = await deadline(theQueue().getJob(id), `while reading message ${id}`) as MessageJob | undefined
      return job === undefined ? undefined : record(job, await deadline(job.getState(), `while reading message ${id}`))
    },

    async replay (id) {
      const job = await deadline(theQueue().getJob(id), `while reading message ${id}`) as MessageJob | undefined
      if (job === undefined) throw new MessageNotFoundError(id)
      const state = await deadline(job.getState(), `while reading message ${id}`)
      const read = readJob(job)
      if (state !== 'failed' || read.state !== 'readable') throw new ReplayRefusedError(id, record(job, state).state)
      const message: DeliveryMessage = { ...read.message, attempt: 1 }
      delete message.unknownSince
      // its end goes with it: ended again only as it runs now
      const { end: _end, ...kept } = job.data
      await deadline(job.updateData({ ...kept, message }), `while replaying message ${id}`)
      await deadline(job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }), `while replaying message ${id}`)
    },

    async failed ({ offset = 0, limit = 100 } = {}) {
      if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1) {
        throw new InvalidPageError(`offset must be a whole number from 0 and limit one from 1, not ${offset} and ${limit}`)
      }
      const [jobs, total] = await deadline(Promise.all([theQueue().getFailed(offset, offset + limit - 1), theQueue().getFailedCount()]), 'while listing failed messages')
      return { total, messages: (jobs as MessageJob[]).map(job => record(job, 'failed')) }
    }
  }
}
