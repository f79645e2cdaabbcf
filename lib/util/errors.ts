import createError from '@fastify/error'

// Stable codes: users match on `err.code`, so a code never changes meaning.
// Startup errors carry 500: they stop the server, they never reach a client.

// Definitions (callbacks and webhooks)
export const InvalidDefinitionError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_DEFINITION',
  '%s: %s',
  500
)
export const DuplicateDefinitionError = createError(
  'FST_OPENAPI_CALLBACKS_DUPLICATE',
  '%s: %s',
  500
)
export const UnprocessedRouteError = createError(
  'FST_OPENAPI_CALLBACKS_UNPROCESSED_ROUTE',
  '%s declares callbacks that fastify-openapi-callbacks did not process. %s',
  500
)
export const CarrierLostError = createError(
  'FST_OPENAPI_CALLBACKS_CARRIER_LOST',
  '%s: its schemas travel through @fastify/swagger in the shared schema "%s", which is missing from the built document. A transformObject must keep the components it does not know; the plugin takes this one out itself',
  500
)
export const UnresolvedCallbackRefError = createError<'FST_OPENAPI_CALLBACKS_UNRESOLVED_REF', 500, [string, string, string]>(
  'FST_OPENAPI_CALLBACKS_UNRESOLVED_REF',
  '%s: the $ref "%s" %s',
  500
)
export const SwaggerDecoratorError = createError(
  'FST_OPENAPI_CALLBACKS_NO_SWAGGER_DECORATOR',
  '%s',
  500
)

// Runtime expressions: where (route and callback), the expression, the position, the fault
export const ExpressionSyntaxError = createError<'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX', 500, [string, string, number, string]>(
  'FST_OPENAPI_CALLBACKS_EXPRESSION_SYNTAX',
  '%s: invalid runtime expression in "%s" at position %d: %s',
  500
)
export const UndeclaredExpressionError = createError<'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED', 500, [string, string, number, string]>(
  'FST_OPENAPI_CALLBACKS_EXPRESSION_UNDECLARED',
  '%s: runtime expression "%s" at position %d %s',
  500
)

// Signing: secrets and signing input are the app's configuration (500); verification failures answer the sender (401)
export const InvalidSecretError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_SECRET',
  'Invalid webhook secret: %s. Use "whsec_" followed by the padded base64 of a random 24 to 64-byte key',
  500
)
export const InvalidSigningInputError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_SIGNING_INPUT',
  'Cannot sign the webhook: %s',
  500
)
export const WebhookHeaderMissingError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_MISSING',
  'Missing "%s" header: a Standard Webhooks request carries webhook-id, webhook-timestamp and webhook-signature',
  401
)
export const WebhookHeaderInvalidError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_HEADER_INVALID',
  'Invalid "%s" header: %s',
  401
)
export const WebhookTimestampError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
  'The webhook-timestamp is %d seconds in the %s, beyond the tolerance of %d seconds: a replay, or a clock out of sync',
  401
)
export const WebhookSignatureMalformedError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MALFORMED',
  'Malformed webhook-signature entry "%s": %s',
  401
)
export const WebhookSignatureUnsupportedError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_UNSUPPORTED',
  'The webhook-signature header has no v1 (HMAC-SHA256) signature, only %s: ask the sender to sign with a shared whsec_ secret',
  401
)
export const WebhookSignatureMismatchError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_SIGNATURE_MISMATCH',
  'No v1 signature matches the body with any configured secret: the body was altered, or the sender uses another secret',
  401
)

// Address policy
export const InvalidUrlError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_URL',
  'Invalid callback URL: %s',
  400
)
export const ForbiddenAddressError = createError(
  'FST_OPENAPI_CALLBACKS_FORBIDDEN_ADDRESS',
  'Callback host %s resolves to %s, which is %s: only public unicast addresses are allowed; add the host or address to `allow` to trust it',
  400
)
export const InvalidAddressPolicyError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_ADDRESS_POLICY',
  'Invalid address policy: %s',
  500
)

// Delivery: resolving targets, sending, queueing. Faults of the app's code or configuration carry 500; the
// outcome of an attempt carries 502, as the receiver's answer (or silence) is the cause
export const InvalidDeliveryOptionsError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_DELIVERY_OPTIONS',
  'Invalid `delivery` option: %s',
  500
)
export const CallbackNotOnRouteError = createError(
  'FST_OPENAPI_CALLBACKS_CALLBACK_NOT_ON_ROUTE',
  '%s is not among the callbacks of %s: resolve a target only for a callback declared in the schema of the route handling the request',
  500
)
export const ResponseRequiredError = createError(
  'FST_OPENAPI_CALLBACKS_RESPONSE_REQUIRED',
  '%s: its URL "%s" reads the response, so pass it: target(definition, request, { statusCode, headers, body })',
  500
)
export const InvalidTargetError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_TARGET',
  'Invalid target for %s: %s',
  500
)
export const InvalidPayloadError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_PAYLOAD',
  'The payload of %s breaks its body schema, so nothing was sent: %s',
  500
)
export const DeliveryClosedError = createError(
  'FST_OPENAPI_CALLBACKS_DELIVERY_CLOSED',
  'Cannot send %s: the server is closing, so delivery has stopped',
  500
)
export const InvalidParametersError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_PARAMETERS',
  'The parameters of %s are not right, so nothing was sent: %s',
  500
)
export const ReservedHeaderError = createError(
  'FST_OPENAPI_CALLBACKS_RESERVED_HEADER',
  '%s: the header "%s" is set by the plugin (the Standard Webhooks signature, the body\'s framing, the connection) or is meant for a proxy, so it cannot be given; nothing was sent',
  500
)
export const SecretUnavailableError = createError(
  'FST_OPENAPI_CALLBACKS_SECRET_UNAVAILABLE',
  'The secret for %s could not be had: %s; the attempt is retried',
  500
)
export const QueueFullError = createError(
  'FST_OPENAPI_CALLBACKS_QUEUE_FULL',
  'The delivery queue holds %d messages, its limit: nothing was queued. Retry later, or raise the engine\'s maxPending',
  503
)
export const ReceiverQueueFullError = createError<'FST_OPENAPI_CALLBACKS_RECEIVER_QUEUE_FULL', 503, [string, number]>(
  'FST_OPENAPI_CALLBACKS_RECEIVER_QUEUE_FULL',
  'The receiver %s has %d messages waiting, its limit: nothing was queued for it. Its other messages are still delivered; retry later, or raise the engine\'s maxPendingPerReceiver',
  503
)
export const InvalidEngineOptionsError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_ENGINE_OPTIONS',
  'Invalid delivery engine option: %s',
  500
)
export const RequestRefusedError = createError(
  'FST_OPENAPI_CALLBACKS_REQUEST_REFUSED',
  'The request to the receiver %s could not be made, so nothing was sent: %s. It is not retried: it would be refused again',
  500
)
export const ReceiverStatusError = createError<'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS', 502, [string, number, string]>(
  'FST_OPENAPI_CALLBACKS_RECEIVER_STATUS',
  'The receiver %s answered %d: %s',
  502
)
export const ReceiverGoneError = createError(
  'FST_OPENAPI_CALLBACKS_RECEIVER_GONE',
  'The receiver %s answered 410 Gone: stop sending to this endpoint (disable or remove the subscription)',
  502
)
export const ReceiverUnreachableError = createError(
  'FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE',
  'Could not complete the request to the receiver %s: %s',
  502
)
export const ContractViolationError = createError<'FST_OPENAPI_CALLBACKS_CONTRACT_VIOLATION', 502, [string, number, string]>(
  'FST_OPENAPI_CALLBACKS_CONTRACT_VIOLATION',
  'The receiver %s answered %d but broke the declared response: %s. It is not retried, since the receiver has acted on the message',
  502
)

// Bounds of an attempt: causes of a FST_OPENAPI_CALLBACKS_RECEIVER_UNREACHABLE result, never thrown to the app
export const AttemptTimeoutError = createError<'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT', 502, [number]>(
  'FST_OPENAPI_CALLBACKS_ATTEMPT_TIMEOUT',
  'The attempt did not complete within attemptTimeout (%d ms): the deadline passed, whatever the receiver or the resolver was doing',
  502
)
export const AttemptAbortedError = createError<'FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED', 502, [number]>(
  'FST_OPENAPI_CALLBACKS_ATTEMPT_ABORTED',
  'The attempt was still in flight when the server closed, and its grace period (closeGrace, %d ms) passed',
  502
)
export const StalledError = createError<'FST_OPENAPI_CALLBACKS_STALLED', 502, [number]>(
  'FST_OPENAPI_CALLBACKS_STALLED',
  'The attempt stalled more than maxStalledCount (%d) times: the workers running it died or were blocked mid-attempt, so BullMQ ended the message',
  502
)
export const LookupFailedError = createError(
  'FST_OPENAPI_CALLBACKS_LOOKUP_FAILED',
  'The lookup of callback host %s gave no usable answer: %s',
  502
)

// Receiving: options are the app's configuration (500); a replay answers the sender (409); a failing replay store
// answers 503, which senders retry
export const InvalidReceiverOptionsError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_RECEIVER_OPTIONS',
  'Invalid webhook receiver option: %s',
  500
)
export const WebhookReplayedError = createError(
  'FST_OPENAPI_CALLBACKS_WEBHOOK_REPLAYED',
  'The message "%s" was already accepted within the tolerance: a replay, refused',
  409
)
export const ReplayStoreUnavailableError = createError(
  'FST_OPENAPI_CALLBACKS_REPLAY_STORE_UNAVAILABLE',
  'The replay store could not check the message: %s. The message is refused, so that the sender retries it',
  503
)

// The document: faults found when it is built, at ready(), and the plugin's own options
export const UndeclaredSecuritySchemeError = createError(
  'FST_OPENAPI_CALLBACKS_UNDECLARED_SECURITY_SCHEME',
  '%s: security names the scheme "%s", which the document does not declare; declare it in @fastify/swagger\'s openapi.components.securitySchemes',
  500
)
export const InvalidPluginOptionsError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_OPTIONS',
  'Invalid fastify-openapi-callbacks option: %s',
  500
)

// Durable delivery (fastify-openapi-callbacks/bullmq): its store and its operations
export const StoreTimeoutError = createError<'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT', 503, [string, number]>(
  'FST_OPENAPI_CALLBACKS_STORE_TIMEOUT',
  'Redis did not answer %s within %d ms: it is down, unreachable or overloaded',
  503
)
export const UnreadableMessageError = createError<'FST_OPENAPI_CALLBACKS_UNREADABLE_MESSAGE', 500, [string, string]>(
  'FST_OPENAPI_CALLBACKS_UNREADABLE_MESSAGE',
  'The stored message %s cannot be read: %s. It ended as unreadable, and is not delivered',
  500
)
export const MessageNotFoundError = createError(
  'FST_OPENAPI_CALLBACKS_MESSAGE_NOT_FOUND',
  'No message %s is kept: it never was, or its retention has passed',
  404
)
export const ReplayRefusedError = createError(
  'FST_OPENAPI_CALLBACKS_REPLAY_REFUSED',
  'Cannot replay message %s: it is %s; only a message that ended failed, gone, exhausted or unknown-key is replayed',
  409
)
export const InvalidPageError = createError(
  'FST_OPENAPI_CALLBACKS_INVALID_PAGE',
  'Invalid page: %s',
  500
)

// OpenAPI versions: what a document of the version set in @fastify/swagger's options cannot express
export const QueryMethodError = createError(
  'FST_OPENAPI_CALLBACKS_QUERY_NEEDS_3_2',
  '%s: %s uses the QUERY method, which OpenAPI has only since 3.2.0. Set @fastify/swagger\'s `openapi.openapi` to \'3.2.0\'',
  500
)
