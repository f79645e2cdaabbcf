import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isRetriedStatus } from '../outcome-policy/outcome-policy.js'
import { WebhookReplayedError } from '../util/errors.js'
import { JSON_MEDIA_TYPE } from '../util/media-type.js'
import { createReplayGuard } from './replay-guard.js'
import { normaliseReceiverOptions } from './receiver-options.js'
import type { WebhookReceiverOptions } from './receiver-options.js'
import { verifySignature } from './signing.js'

export type { ReplayOptions, WebhookReceiverOptions } from './receiver-options.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * In a webhookReceiver context: true when the message's webhook-id was already accepted within the tolerance
     * (only with `replay: { mode: 'mark' }`; `'refuse'` answers 409 instead), so the handler skips the work and
     * answers 2xx. Undefined outside such a context.
     */
    webhookReplay?: boolean
  }
}

/**
 * Verifies the Standard Webhooks signature of every request to the routes of the context it is registered in, before
 * validation and the handler; a failure answers 401 with the error's code. Then refuses (409) or marks a replay: a
 * webhook-id already accepted within the tolerance. Register it inside an encapsulated context that holds only the
 * receiver routes: that context then accepts JSON bodies only (application/json and every +json type, with any
 * parameters: all the media types the plugin's sender uses), parsed as usual.
 */
const receiver: FastifyPluginAsync<WebhookReceiverOptions> = async (fastify, options) => {
  const { secret: keys, toleranceSeconds, replay } = normaliseReceiverOptions(options)
  const guard = replay === undefined ? undefined : createReplayGuard(replay.store, replay.timeout)
  const mark = replay?.mark === true
  // Fastify fills in its defaults, whatever the types say
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig as Required<typeof fastify.initialConfig>
  const parseJson = fastify.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning)
  // The signature covers the bytes sent, which parsing loses; a WeakMap keeps them private and leaves the request's shape alone
  const rawBodies = new WeakMap<FastifyRequest, string>()
  // the message ids this context's requests recorded, to let go if their handler fails
  const recorded = new WeakMap<FastifyRequest, string>()

  fastify.removeAllContentTypeParsers()
  // parseAs 'string' gives a string, though the types do not narrow it
  fastify.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'string' }, (request, body, done) => {
    rawBodies.set(request, body as string)
    parseJson(request, body as string, done)
  })
  if (!fastify.hasRequestDecorator('webhookReplay')) fastify.decorateRequest('webhookReplay', false)

  fastify.addHook('preValidation', async (request) => {
    const now = Date.now()
    const id = verifySignature(keys, request.headers, rawBodies.get(request) ?? '', toleranceSeconds, Math.floor(now / 1000))
    // recorded only once the signature holds, so that nobody without the key can spend an id
    if (guard === undefined) return
    // kept while the timestamp check would still accept this very request
    const ttlMs = (Number(request.headers['webhook-timestamp']) + toleranceSeconds + 1) * 1000 - now
    if (!await guard.seen(id, ttlMs)) {
      recorded.set(request, id)
      return
    }
    if (!mark) throw new WebhookReplayedError(id)
    request.webhookReplay = true
  })

  if (guard !== undefined) {
    fastify.addHook('onResponse', async (request, reply) => {
      const id = recorded.get(request)
      if (id === undefined || !isRetriedStatus(reply.statusCode)) return
      try {
        await guard.forget(id)
      } catch (error) {
        request.log.error({ err: error, webhookId: id }, 'fastify-openapi-callbacks: the replay store could not let go of a message whose handler failed; its retry will be taken for a replay')
      }
    })
  }
}

// fastify-plugin puts the parser and the hook in the caller's context, so they guard the routes declared next to them
export const webhookReceiver = fp(receiver, {
  fastify: '5.x',
  name: 'fastify-openapi-callbacks-webhook-receiver'
})
