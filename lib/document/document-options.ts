import { InvalidPluginOptionsError } from '../util/errors.js'
import { isObject } from '../util/json.js'

/** The plugin's `document` option: what the document says beyond the definitions. */
export interface DocumentOptions {
  /** Document the Standard Webhooks headers sent with every callback and webhook, and how to verify them. Default true. */
  signature?: boolean
}

/** Checked once, at registration. */
export function normaliseDocumentOptions (options: unknown): Required<DocumentOptions> {
  if (options === undefined) return { signature: true }
  if (!isObject(options)) throw new InvalidPluginOptionsError('document must be an object: { signature?: boolean }')
  for (const key of Object.keys(options)) {
    if (key !== 'signature') throw new InvalidPluginOptionsError(`document.${key} is unknown: the document option takes signature`)
  }
  if (options.signature !== undefined && typeof options.signature !== 'boolean') {
    throw new InvalidPluginOptionsError('document.signature must be a boolean: false leaves the signature headers out of the document')
  }
  return { signature: options.signature ?? true }
}
