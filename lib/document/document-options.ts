import { InvalidPluginOptionsError } from '../util/errors.js'
import { isObject } from '../util/json.js'

/** The plugin's `document` option: what the document says beyond the definitions. */
export interface DocumentOptions {
  /** Document the Standard Webhooks headers sent with every callback and webhook, and how to verify them. Default true. */
  signature?: boolean
  /**
   * A Callback Object that several routes document identically (one callback router used on many routes) goes once
   * into `components.callbacks`, and each route `$ref`s it. Default false: every route has its callbacks inline.
   */
  sharedCallbacks?: boolean
}

const FLAGS = {
  signature: 'false leaves the signature headers out of the document',
  sharedCallbacks: 'true puts a Callback Object that several routes share into components.callbacks'
} as const

/** Checked once, at registration. */
export function normaliseDocumentOptions (options: unknown): Required<DocumentOptions> {
  if (options === undefined) return { signature: true, sharedCallbacks: false }
  if (!isObject(options)) throw new InvalidPluginOptionsError('document must be an object: { signature?: boolean, sharedCallbacks?: boolean }')
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(FLAGS, key)) throw new InvalidPluginOptionsError(`document.${key} is unknown: the document option takes signature and sharedCallbacks`)
  }
  for (const [key, meaning] of Object.entries(FLAGS)) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new InvalidPluginOptionsError(`document.${key} must be a boolean: ${meaning}`)
  }
  return { signature: options.signature as boolean | undefined ?? true, sharedCallbacks: options.sharedCallbacks as boolean | undefined ?? false }
}
