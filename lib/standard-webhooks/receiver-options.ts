import { InvalidSecretError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import { readNumber, refuseUnknownKeys } from '../util/number-option.js'
import { createReplayMemoryStore, DEFAULT_REPLAY_ENTRIES } from './replay-store.js'
import type { ReplayStore } from './replay-store.js'
import { DEFAULT_TOLERANCE_SECONDS, TOLERANCE_RULE, failOption, parseSecret } from './signing.js'

export interface WebhookReceiverOptions {
  /** One `whsec_` secret, or several while the sender rotates its key. */
  secret: string | readonly string[]
  /** Accepted clock difference in whole seconds (0 to 86 400), both ways. Default 300. */
  toleranceSeconds?: number
  /** Replay protection: on by default (`true`), `false` to turn it off, or its options. */
  replay?: boolean | ReplayOptions
}

export interface ReplayOptions {
  /**
   * What a message whose webhook-id was already accepted within the tolerance gets: `'refuse'` (default) answers
   * 409 FST_OPENAPI_CALLBACKS_WEBHOOK_REPLAYED; `'mark'` lets it through with `request.webhookReplay === true`,
   * for the handler to skip the work and answer 2xx.
   */
  mode?: 'refuse' | 'mark'
  /** Shared by several receiver processes. Default: in this process's memory. */
  store?: ReplayStore
  /** The in-memory store's bound, in message ids. Default 100 000. Not with `store`. */
  maxEntries?: number
  /** The deadline of one call to the store, in milliseconds. Default 1 000. */
  timeout?: number
}

export interface NormalisedReceiverOptions {
  keys: Buffer[]
  toleranceSeconds: number
  replay: { mark: boolean, store: ReplayStore, timeout: number } | undefined
}

// Fastify's own register options share the plugin's options object
const RECEIVER_OPTIONS = new Set(['secret', 'toleranceSeconds', 'replay', 'prefix', 'logLevel', 'logSerializers'])
const REPLAY_OPTIONS = new Set(['mode', 'store', 'maxEntries', 'timeout'])
const MAX_TIMER_DELAY = 2 ** 31 - 1

/** Checks webhookReceiver's options once, at registration, failing closed, and fills in the defaults. */
export function normaliseReceiverOptions (options: WebhookReceiverOptions): NormalisedReceiverOptions {
  if (!isObject(options)) failOption('the options must be an object')
  refuseUnknownKeys(options, RECEIVER_OPTIONS, failOption)
  const { secret, replay = true } = options
  if (typeof secret !== 'string' && !Array.isArray(secret)) {
    throw new InvalidSecretError('`secret` must be a whsec_ secret or an array of them')
  }
  const keys = [secret].flat().map(parseSecret)
  if (keys.length === 0) throw new InvalidSecretError('none was given')
  const toleranceSeconds = readNumber(options, 'toleranceSeconds', DEFAULT_TOLERANCE_SECONDS, TOLERANCE_RULE, failOption)
  return { keys, toleranceSeconds, replay: normaliseReplay(replay) }
}

function normaliseReplay (replay: unknown): NormalisedReceiverOptions['replay'] {
  if (replay === false) return undefined
  const options = replay === true ? {} : replay
  if (!isObject(options)) failOption('replay must be true, false or an object of replay options')
  refuseUnknownKeys(options, REPLAY_OPTIONS, key => failOption(`replay: ${key}`))
  const { mode = 'refuse', store } = options
  if (mode !== 'refuse' && mode !== 'mark') failOption('replay.mode must be \'refuse\' or \'mark\'')
  const timeout = readNumber(options, 'timeout', 1000, { min: 1, max: MAX_TIMER_DELAY, integer: true }, fault => failOption(`replay.${fault}`))
  if (store === undefined) {
    const maxEntries = readNumber(options, 'maxEntries', DEFAULT_REPLAY_ENTRIES, { min: 1, max: Infinity, integer: true }, fault => failOption(`replay.${fault}`))
    return { mark: mode === 'mark', store: createReplayMemoryStore(maxEntries), timeout }
  }
  if (options.maxEntries !== undefined) failOption('replay.maxEntries bounds the in-memory store only: bound your own `store` itself')
  if (!isObject(store) || typeof store.seen !== 'function' || typeof store.forget !== 'function') {
    failOption('replay.store must implement seen(id, ttlMs) and forget(id)')
  }
  return { mark: mode === 'mark', store: store as unknown as ReplayStore, timeout }
}
