import { boolean, group } from '../util/options.js'

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

/** The `document` option, checked once at registration with the plugin's options. */
export const DOCUMENT_OPTIONS = group({
  signature: boolean(true),
  sharedCallbacks: boolean(false)
})
