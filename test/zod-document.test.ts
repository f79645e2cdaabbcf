import { test } from 'tap'
import { parse } from 'yaml'
import { buildApp } from '../example/app.js'
import { buildZodApp } from '../example/zod-app.js'
import { validationErrors } from './helpers.js'
import type { Json } from './helpers.js'

/**
 * A document's meaning without its layout: every `$ref` replaced by the component it names, so that the TypeBox app's
 * `Invoice` and the zod app's `InvoiceInput` (fastify-type-provider-zod's name for the input side) compare equal. Zod
 * states that parsing strips unknown properties (`additionalProperties: false` on its output side), which TypeBox's
 * schemas leave unsaid: that one keyword is left out. A union of types is written `type: ['string', 'null']` by zod and
 * as an `anyOf` of types by TypeBox: both read as the `anyOf`.
 */
function meaning (document: Json, value: unknown): unknown {
  if (Array.isArray(value)) return value.map(item => meaning(document, item))
  if (typeof value !== 'object' || value === null) return value
  const { $ref, ...rest } = value as Json
  if (typeof $ref === 'string') return meaning(document, document.components.schemas[$ref.replace('#/components/schemas/', '')])
  if (Array.isArray(rest.type)) {
    const { type, ...others } = rest
    return meaning(document, { ...others, anyOf: type.map(name => ({ type: name })) })
  }
  return Object.fromEntries(Object.entries(rest)
    .filter(([key, item]) => !(key === 'additionalProperties' && item === false))
    .map(([key, item]) => [key, meaning(document, item)]))
}

for (const openapi of ['3.0.3', '3.1.0']) {
  test(`the zod invoice app documents what the TypeBox one does, in OpenAPI ${openapi}`, async (t) => {
    const typebox = await buildApp({ openapi })
    const zod = await buildZodApp({ openapi })
    t.teardown(() => Promise.all([typebox.close(), zod.close()]))
    await Promise.all([typebox.ready(), zod.ready()])
    const expected = typebox.swagger() as Json
    const document = zod.swagger() as Json

    t.same(await validationErrors(document), [], 'valid against the official schema, no dangling $ref')
    t.ok(document.paths['/invoices/'].post.callbacks.invoice_notification, 'the callback is there')
    // the TypeBox app also shows router-level callbacks (example/payments.ts), which the zod app does not port
    const ported = Object.fromEntries(Object.entries(expected.paths).filter(([path]) => !path.startsWith('/payments/')))
    t.same(Object.keys(expected.paths).filter(path => !Object.hasOwn(ported, path)), ['/payments/', '/payments/{id}/refund', '/payments/health'], 'only the payments routes are not ported')
    t.same(meaning(document, document.paths), meaning(expected, ported), 'the same operations, callbacks and schemas')
    t.equal(document.webhooks === undefined, openapi === '3.0.3', 'webhooks only where the version can hold them')
    t.same(meaning(document, document.webhooks), meaning(expected, expected.webhooks), 'the same webhooks')
    t.same(parse(zod.swagger({ yaml: true }) as string), document, 'the YAML document is the same document')
  })
}
