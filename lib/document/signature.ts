import type { Json } from '../util/json.js'

/** Whether what is sent is signed: always (a `delivery.secret`), by subscriber (`secretFor` alone), or never. */
export type Signing = 'always' | 'by-subscriber' | 'never'

/** What every callback and webhook operation documents of the headers the plugin sends by itself. */
export interface SentHeaders {
  /** Fresh objects on each call: every operation of the document gets its own. */
  parameters: () => Json[]
  /** Appended to the operation's description: how a receiver verifies what it gets. */
  note: string | undefined
}

const STANDARD_WEBHOOKS = 'https://www.standardwebhooks.com/'
// `v1,` and the base64 of a 32-byte HMAC-SHA256, one per secret while keys rotate
const SIGNATURES = '^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$'

/** The Standard Webhooks headers as header parameters, and the note on verifying them; none when not documented. */
export function sentHeaders (signing: Signing, documented: boolean): SentHeaders {
  if (!documented) return { parameters: () => [], note: undefined }
  // literals, not a copy of one list: this runs for every operation of the document
  const stamps = (): Json[] => [
    {
      name: 'webhook-id',
      in: 'header',
      required: true,
      description: 'The message id: the same on every attempt of a message, retries included, so it is the idempotency key to deduplicate on.',
      schema: { type: 'string' },
      example: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'
    },
    {
      name: 'webhook-timestamp',
      in: 'header',
      required: true,
      description: 'When this attempt was made, in Unix seconds.',
      schema: { type: 'integer' },
      example: 1767225600
    }
  ]
  if (signing === 'never') return { parameters: stamps, note: undefined }
  const description = `Standard Webhooks v1 signatures${signing === 'always' ? '' : ', when the subscription has a secret'}: \`v1,\` and the base64 HMAC-SHA256 of \`{webhook-id}.{webhook-timestamp}.{body}\`, keyed by the shared secret; several, separated by spaces, while the secret is rotated: accept any that matches.`
  const parameters = (): Json[] => [...stamps(), {
    name: 'webhook-signature',
    in: 'header',
    required: signing === 'always',
    description,
    schema: { type: 'string', pattern: SIGNATURES },
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='
  }]
  return {
    parameters,
    note: `Signed with [Standard Webhooks](${STANDARD_WEBHOOKS}) v1${signing === 'always' ? '' : ' when the subscription has a secret'}: ` +
      'recompute the HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the shared secret, compare it with each `webhook-signature` entry in constant time, ' +
      'and refuse a `webhook-timestamp` more than 5 minutes from your clock.'
  }
}
