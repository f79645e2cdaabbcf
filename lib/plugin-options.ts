import { DELIVERY_OPTIONS } from './delivery/options.js'
import { DOCUMENT_OPTIONS } from './document/document-options.js'
import { InvalidPluginOptionsError } from './util/errors.js'
import { custom, group, readOptions } from './util/options.js'
import type { Normalised } from './util/options.js'

const isName = (value: unknown): boolean => typeof value === 'string' && value !== ''

/** The plugin's options: an unknown key (such as `secret`, which belongs in `delivery`) fails registration. */
const PLUGIN_OPTIONS = group({
  decorator: {
    read: (value: unknown, path: string, fail: (fault: string) => never): string[] => {
      const names = custom<string | string[]>('a decorator name or an array of them', given => isName(given) || (Array.isArray(given) && given.every(isName)), 'swagger').read(value, path, fail)
      return [names].flat()
    }
  },
  delivery: DELIVERY_OPTIONS,
  document: DOCUMENT_OPTIONS
}, { ignored: ['prefix', 'logLevel', 'logSerializers'] }) // Fastify's own register options share the object

function fail (fault: string): never {
  throw new InvalidPluginOptionsError(fault)
}

export type NormalisedPluginOptions = Normalised<typeof PLUGIN_OPTIONS.fields>

/** Checks the plugin's options once, at registration, and fills in the defaults. */
export function normalisePluginOptions (options: unknown): NormalisedPluginOptions {
  return readOptions(options, PLUGIN_OPTIONS, fail)
}
