/**
 * Headers the plugin or its HTTP client sets on every request it sends (the Standard Webhooks signature, the body's
 * framing, the connection), and the hop-by-hop ones meant for a proxy or for the connection alone: the app cannot
 * send them, so a definition cannot declare them either. undici refuses several (expect, upgrade, keep-alive, ...).
 */
export const PLUGIN_HEADER = /^(?:webhook-.*|content-type|content-length|host|transfer-encoding|connection|keep-alive|proxy-connection|proxy-authorization|proxy-authenticate|upgrade|expect|te|trailer)$/

/** The first declared header name that the plugin sets itself, if any (HTTP names are case-insensitive). */
export function pluginHeaderIn (names: readonly string[]): string | undefined {
  return names.find(name => PLUGIN_HEADER.test(name.toLowerCase()))
}
