/**
 * application/json, or a +json type such as application/problem+json, with or without parameters: the media types
 * the sender sends a body as, and the receiver verifies and parses. Anchored at "^", as Fastify asks of a RegExp
 * content-type parser, which it tests against the header's normalised form.
 */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i

export function isJsonMediaType (type: string): boolean {
  return JSON_MEDIA_TYPE.test(type)
}
