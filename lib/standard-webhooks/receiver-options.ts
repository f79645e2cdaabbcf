import { InvalidSecretError } from '../util/errors.js'
import { isObject } from '../util/json.js'
import { duration, group, implementing, number, oneOf, readOptions, refuse } from '../util/options.js'
import type { Fail, Normalised } from '../util/options.js'
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

const REPLAY_OPTIONS = group({
  mode: oneOf<'refuse' | 'mark'>('refuse', ['refuse', 'mark']),
  store: implementing<ReplayStore>(['seen', 'forget'], ', as a ReplayStore does'),
  maxEntries: number(undefined, { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  timeout: duration(1000)
})

const RECEIVER_OPTIONS = group({
  secret: {
    read: (value: unknown): Buffer[] => {
      if (typeof value !== 'string' && !Array.isArray(value)) throw new InvalidSecretError('`secret` must be a whsec_ secret or an array of them')
      const keys = [value as string].flat().map(parseSecret)
      if (keys.length === 0) throw new InvalidSecretError('none was given')
      return keys
    }
  },
  toleranceSeconds: number(DEFAULT_TOLERANCE_SECONDS, TOLERANCE_RULE),
  // true (the default) or false, or the replay options
  replay: {
    fields: REPLAY_OPTIONS.fields,
    read: (value: unknown, path: string, fail: Fail) => {
      if (value === false) return undefined
      if (value !== true && value !== undefined && !isObject(value)) refuse(path, 'true, false or an object of replay options', value, fail)
      const { mode, store, maxEntries, timeout } = REPLAY_OPTIONS.read(value === true ? undefined : value, path, fail)
      if (store !== undefined && maxEntries !== undefined) fail(`${path}.maxEntries bounds the in-memory store only: bound your own \`store\` itself`)
      return { mark: mode === 'mark', store: store ?? createReplayMemoryStore(maxEntries ?? DEFAULT_REPLAY_ENTRIES), timeout }
    }
  }
}, { ignored: ['prefix', 'logLevel', 'logSerializers'] }) // Fastify's own register options share the plugin's options object

/** Checks webhookReceiver's options once, at registration, failing closed, and fills in the defaults. */
export function normaliseReceiverOptions (options: WebhookReceiverOptions): Normalised<typeof RECEIVER_OPTIONS.fields> {
  return readOptions(options, RECEIVER_OPTIONS, failOption)
}
