import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidSecretError } from '../util/errors.js'
import { parseSecret, verifyWebhook } from './signing.js'

export interface WebhookReceiverOptions {
  /** One `whsec_` secret, or several while the sender rotates its key. */
  secret: string | string[]
  /** Accepted clock difference in seconds, both ways. Default 300. */
  toleranceSeconds?: number
}

/**
 * Verifies the Standard Webhooks signature of every request to the routes of the context it is registered in, before
 * validation and the handler; a failure answers 401 with the error's code. Register it inside an encapsulated context
 * that holds only the receiver routes: that context then accepts JSON bodies only, parsed as usual.
 */
const receiver: FastifyPluginAsync<WebhookReceiverOptions> = async (fastify, options) => {
  const secrets = [options.secret].flat().map(parseSecret)
  if (secrets.length === 0) {
    throw new InvalidSecretError('none was given')
  }
  // Fastify fills in its defaults, whatever the types say
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig as Required<typeof fastify.initialConfig>
  const parseJson = fastify.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning)
  // The signature covers the bytes sent, which parsing loses; a WeakMap keeps them private and leaves the request's shape alone
  const rawBodies = new WeakMap<FastifyRequest, string>()

  fastify.removeAllContentTypeParsers()
  // parseAs 'string' gives a string, though the types do not narrow it
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    rawBodies.set(request, body as string)
    parseJson(request, body as string, done)
  })

  fastify.addHook('preValidation', async (request) => {
    verifyWebhook(secrets, request.headers, rawBodies.get(request) ?? '', { toleranceSeconds: options.toleranceSeconds })
  })
}

// fastify-plugin puts the parser and the hook in the caller's context, so they guard the routes declared next to them
export const webhookReceiver = fp(receiver, {
  fastify: '5.x',
  name: 'fastify-openapi-callbacks-webhook-receiver'
})
