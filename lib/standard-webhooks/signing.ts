import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import {
  InvalidReceiverOptionsError,
  InvalidSecretError,
  InvalidSigningInputError,
  WebhookHeaderInvalidError,
  WebhookHeaderMissingError,
  WebhookSignatureMalformedError,
  WebhookSignatureMismatchError,
  WebhookSignatureUnsupportedError,
  WebhookTimestampError
} from '../util/errors.js'
import { group, number, readOptions } from '../util/options.js'
import type { NumberBounds } from '../util/options.js'

// Standard Webhooks 1.0: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

// A type, not an interface, so that it passes where headers are a Record (verifyWebhook, undici)
export type SignedHeaders = {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

export interface VerifyOptions {
  /** Accepted clock difference, in whole seconds (0 to 86 400), both ways. Default 300 (5 minutes, as the standard advises). */
  toleranceSeconds?: number
  /** The current time in Unix seconds. Default: the system clock. */
  now?: number
}

const SECRET_PREFIX = 'whsec_'
const MIN_KEY_BYTES = 24
const MAX_KEY_BYTES = 64
const SIGNATURE_BYTES = 32
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60
export const TOLERANCE_RULE: NumberBounds = { min: 0, max: 24 * 60 * 60, integer: true }
const VERIFY_OPTIONS = group({
  toleranceSeconds: number(DEFAULT_TOLERANCE_SECONDS, TOLERANCE_RULE),
  now: number(undefined, { min: 0, max: Number.MAX_SAFE_INTEGER })
})
const HEADER_NAMES = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const

/** Decodes a `whsec_<base64>` secret into its key. The error never quotes the secret. */
export function parseSecret (secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    throw new InvalidSecretError(`it is not a string starting with "${SECRET_PREFIX}"`)
  }
  const encoded = secret.slice(SECRET_PREFIX.length)
  const key = Buffer.from(encoded, 'base64')
  // Buffer.from skips what is not base64: only a canonical encoding survives the round trip
  if (key.toString('base64') !== encoded) {
    throw new InvalidSecretError(`the text after "${SECRET_PREFIX}" is not padded base64`)
  }
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new InvalidSecretError(`the key is ${key.length} bytes long`)
  }
  return key
}

/** Signs one attempt. Several secrets (during a key rotation) give several space-separated `v1,` entries. */
export function signWebhook (secrets: readonly Buffer[], id: string, timestamp: number, body: string | Buffer): SignedHeaders {
  assertSecrets(secrets)
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new InvalidSigningInputError(`the timestamp ${timestamp} is not a whole number of Unix seconds`)
  }
  const seconds = String(timestamp)
  return {
    'webhook-id': id,
    'webhook-timestamp': seconds,
    'webhook-signature': signatureHeader(secrets.map(key => createSecretKey(key)), id, seconds, body)
  }
}

/**
 * The webhook-signature header for keys already checked, as HMAC key objects (`createSecretKey` of what parseSecret()
 * gives): a sender makes them once, not on every attempt. `timestamp` is the webhook-timestamp header's text.
 */
export function signatureHeader (keys: readonly KeyObject[], id: string, timestamp: string, body: string | Buffer): string {
  // The standard forbids "." in the id: it separates the signed parts
  if (id === '' || id.includes('.')) {
    throw new InvalidSigningInputError(`the message id "${id}" must be non-empty and free of "."`)
  }
  let header = ''
  for (const key of keys) header += `${header === '' ? '' : ' '}v1,${hmac(key, id, timestamp, body).toString('base64')}`
  return header
}

/**
 * Verifies a request's Standard Webhooks headers (names in lower case, as in Node's request.headers) against its raw
 * body. Accepts when any v1 entry matches any secret; entries of other versions (such as v1a) and malformed entries
 * are skipped, as the standardwebhooks package does.
 * Its arguments are checked on every call, failing closed: keys as parseSecret() gives them
 * (FST_OPENAPI_CALLBACKS_INVALID_SECRET), options (FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS).
 */
export function verifyWebhook (
  secrets: readonly Buffer[],
  headers: Record<string, string | string[] | undefined>,
  body: string | Buffer,
  options: VerifyOptions = {}
): void {
  assertSecrets(secrets)
  const { toleranceSeconds, now = Math.floor(Date.now() / 1000) } = readOptions(options, VERIFY_OPTIONS, failOption)
  verifySignature(secrets, headers, body, toleranceSeconds, now)
}

/** verifyWebhook with arguments already checked; returns the message id it verified. */
export function verifySignature (
  secrets: readonly Buffer[],
  headers: Record<string, string | string[] | undefined>,
  body: string | Buffer,
  toleranceSeconds: number,
  now: number
): string {
  const [id, timestamp, signature] = HEADER_NAMES.map((name) => headerValue(headers, name)) as [string, string, string]

  if (!/^\d+$/.test(timestamp)) {
    throw new WebhookHeaderInvalidError('webhook-timestamp', `"${timestamp}" is not an integer number of Unix seconds`)
  }
  const skew = Number(timestamp) - now
  if (Math.abs(skew) > toleranceSeconds) {
    throw new WebhookTimestampError(Math.abs(skew), skew < 0 ? 'past' : 'future', toleranceSeconds)
  }

  const candidates = v1Signatures(signature)
  const expected = secrets.map((key) => hmac(key, id, timestamp, body))
  const matches = candidates.some((candidate) => expected.some((digest) => timingSafeEqual(candidate, digest)))
  if (!matches) {
    throw new WebhookSignatureMismatchError()
  }
  return id
}

export function failOption (fault: string): never {
  throw new InvalidReceiverOptionsError(fault)
}

function hmac (key: Buffer | KeyObject, id: string, timestamp: string, body: string | Buffer): Buffer {
  const signed = `${id}.${timestamp}.`
  // one update is cheaper than two, and a string body is the common case
  return typeof body === 'string'
    ? createHmac('sha256', key).update(signed + body).digest()
    : createHmac('sha256', key).update(signed).update(body).digest()
}

/** Keys as parseSecret() gives them: an empty or short key would sign (or verify) with a key anyone can guess. */
function assertSecrets (secrets: readonly Buffer[]): void {
  if (!Array.isArray(secrets)) {
    throw new InvalidSecretError('the keys must be an array of what parseSecret() returns')
  }
  if (secrets.length === 0) {
    throw new InvalidSecretError('none was given')
  }
  for (const key of secrets) {
    if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
      throw new InvalidSecretError(`a key is ${Buffer.isBuffer(key) ? `${key.length} bytes long` : 'not a Buffer: decode secrets with parseSecret()'}`)
    }
  }
}

function headerValue (headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name]
  if (value === undefined || value === '') {
    throw new WebhookHeaderMissingError(name)
  }
  if (Array.isArray(value)) {
    throw new WebhookHeaderInvalidError(name, `it was given ${value.length} times`)
  }
  return value
}

/**
 * The decoded v1 entries of a webhook-signature header. A malformed entry is skipped, as the standardwebhooks package
 * skips it, so that a valid sibling still verifies; it is the refusal only when no well-formed v1 entry is left.
 */
function v1Signatures (header: string): Buffer[] {
  const signatures: Buffer[] = []
  const otherVersions: string[] = []
  let malformed: { entry: string, fault: string } | undefined
  for (const entry of header.split(/ +/)) {
    const comma = entry.indexOf(',')
    if (comma < 1) {
      malformed ??= { entry, fault: 'expected "<version>,<base64 signature>"' }
      continue
    }
    const version = entry.slice(0, comma)
    if (version !== 'v1') {
      otherVersions.push(version)
      continue
    }
    const encoded = entry.slice(comma + 1)
    const signature = Buffer.from(encoded, 'base64')
    if (signature.length !== SIGNATURE_BYTES || signature.toString('base64') !== encoded) {
      malformed ??= { entry, fault: `a v1 signature is the padded base64 of ${SIGNATURE_BYTES} bytes` }
      continue
    }
    signatures.push(signature)
  }
  if (signatures.length > 0) return signatures
  if (malformed !== undefined) throw new WebhookSignatureMalformedError(malformed.entry, malformed.fault)
  throw new WebhookSignatureUnsupportedError(otherVersions.join(', '))
}
