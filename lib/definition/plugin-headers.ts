/**
 * Headers the plugin sets on every request it sends (the Standard Webhooks signature, the body's framing, the
 * connection): the app cannot send them, so a definition cannot declare them either.
 */
export const PLUGIN_HEADER = /^(?:webhook-.*|content-type|content-length|host|transfer-encoding|connection|keep-alive|upgrade|te|trailer)$/

/** The first declared header name that the plugin sets itself, if any (HTTP names are case-insensitive). */
export function pluginHeaderIn (names: readonly string[]): string | undefined {
  return names.find(name => PLUGIN_HEADER.test(name.toLowerCase()))
}
