import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { InvalidEngineOptionsError } from '../../util/errors.js'
import { isObject } from '../../util/json.js'
import { duration, group, number, readOptions, required, string } from '../../util/options.js'
import type { Normalised, OptionRule } from '../../util/options.js'

/** bullmqEngine()'s options. Durations are in milliseconds. */
export interface BullmqEngineOptions {
  /**
   * An ioredis client, its options, or a redis:// URL. The engine closes a client it made from options or a URL, never
   * one given: a given client must have `maxRetriesPerRequest: null` to deliver. Under native ESM, BullMQ cannot load
   * ioredis itself, so this engine always hands it a client (the one given, or the one it made).
   */
  connection: Redis | RedisOptions | string
  /** Default 'fastify-openapi-callbacks'. Every process of one app uses the same. */
  queueName?: string
  /** BullMQ's key prefix. Default 'bull'. */
  prefix?: string
  /** How long finished messages stay, for get() and failed(). Default: completed 1 day, failed 7 days. */
  keep?: { completed?: number, failed?: number }
  /** A worker's hold on an attempt; a dead worker's attempts are run again after about lockDuration + stalledInterval. Default 30 s. */
  lockDuration?: number
  /** How often a worker looks for attempts whose worker died. Default 30 s. */
  stalledInterval?: number
  /** How many times a message's worker may die mid-attempt before BullMQ fails it. Default 10 (BullMQ's own: 1). */
  maxStalledCount?: number
  /** How long a message waits for a process that knows its key before it ends as unknown-key, replayable (the plugin reports it after its unknownKeyGrace). Default 1 day. */
  unknownKeyLimit?: number
  /** The longest wait for Redis at open() and in enqueue(). Default 10 s. */
  timeout?: number
  /** When an attempt could not be recorded (Redis failed): the wait before it runs again. Default 5 s. */
  recordRetryDelay?: number
}

const SECOND = 1000
const HOUR = 3600 * SECOND
const DAY = 24 * HOUR

const NAME = /^[\w.-]+$/
const NAMED = "a non-empty string of letters, digits, '_', '.' and '-'"
// retention is an age BullMQ compares with, not a timer: it may pass the longest timer
const age = (fallback: number): OptionRule<number> => number(fallback, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true })

const BULLMQ_OPTIONS = group({
  connection: required<Redis | RedisOptions | string>('an ioredis client, its options or a redis:// URL', value => value instanceof Redis || typeof value === 'string' || isObject(value)),
  queueName: string('fastify-openapi-callbacks', NAME, NAMED),
  prefix: string('bull', NAME, NAMED),
  keep: group({ completed: age(DAY), failed: age(7 * DAY) }),
  lockDuration: duration(30 * SECOND),
  stalledInterval: duration(30 * SECOND),
  maxStalledCount: number(10, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  unknownKeyLimit: duration(DAY),
  timeout: duration(10 * SECOND),
  recordRetryDelay: duration(5 * SECOND)
})

function fail (fault: string): never {
  throw new InvalidEngineOptionsError(fault)
}

/** Checks bullmqEngine()'s options once, when the engine is made, and fills in the defaults. */
export function normaliseBullmqOptions (options: BullmqEngineOptions): Normalised<typeof BULLMQ_OPTIONS.fields> {
  return readOptions(options, BULLMQ_OPTIONS, fail)
}
