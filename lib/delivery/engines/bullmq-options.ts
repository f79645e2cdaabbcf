import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { InvalidEngineOptionsError } from '../../util/errors.js'
import { isObject } from '../../util/json.js'

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

export interface NormalisedBullmqOptions {
  connection: Redis | RedisOptions | string
  queueName: string
  prefix: string
  keep: { completed: number, failed: number }
  lockDuration: number
  stalledInterval: number
  maxStalledCount: number
  unknownKeyLimit: number
  timeout: number
  recordRetryDelay: number
}

const SECOND = 1000
const HOUR = 3600 * SECOND
const DAY = 24 * HOUR

const DURATIONS = {
  lockDuration: 30 * SECOND,
  stalledInterval: 30 * SECOND,
  unknownKeyLimit: DAY,
  timeout: 10 * SECOND,
  recordRetryDelay: 5 * SECOND
} as const
const KEYS = new Set(['connection', 'queueName', 'prefix', 'keep', 'maxStalledCount', ...Object.keys(DURATIONS)])

function fail (fault: string): never {
  throw new InvalidEngineOptionsError(fault)
}

function duration (name: string, value: unknown, fallback: number): number {
  const given = value ?? fallback
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 1) fail(`${name} must be a whole number of milliseconds from 1 up, not ${inspect(value)}`)
  return given
}

function name (key: string, value: unknown, fallback: string): string {
  const given = value ?? fallback
  if (typeof given !== 'string' || !/^[\w.-]+$/.test(given)) fail(`${key} must be a non-empty string of letters, digits, '_', '.' and '-', not ${inspect(value)}`)
  return given
}

/** Checks bullmqEngine()'s options once, when the engine is made, and fills in the defaults. */
export function normaliseBullmqOptions (options: BullmqEngineOptions): NormalisedBullmqOptions {
  if (!isObject(options)) fail('the options must be an object with a `connection`')
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) fail(`unknown option "${key}"`)
  }
  const { connection, keep = {}, maxStalledCount = 10 } = options
  if (!(connection instanceof Redis) && typeof connection !== 'string' && !isObject(connection)) {
    fail('connection must be an ioredis client, its options or a redis:// URL')
  }
  if (!isObject(keep)) fail('keep must be an object: { completed, failed } in milliseconds')
  for (const key of Object.keys(keep)) {
    if (key !== 'completed' && key !== 'failed') fail(`unknown option "keep.${key}"`)
  }
  if (!Number.isInteger(maxStalledCount) || maxStalledCount < 1) fail(`maxStalledCount must be a whole number from 1 up, not ${inspect(maxStalledCount)}`)
  const durations = Object.fromEntries(Object.entries(DURATIONS).map(([key, fallback]) =>
    [key, duration(key, (options as unknown as Record<string, unknown>)[key], fallback)])) as Record<keyof typeof DURATIONS, number>
  return {
    connection,
    queueName: name('queueName', options.queueName, 'fastify-openapi-callbacks'),
    prefix: name('prefix', options.prefix, 'bull'),
    keep: { completed: duration('keep.completed', keep.completed, DAY), failed: duration('keep.failed', keep.failed, 7 * DAY) },
    maxStalledCount,
    ...durations
  }
}
