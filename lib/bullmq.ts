// fastify-openapi-callbacks/bullmq: durable, distributed delivery. A separate entry, so that the main one never loads
// bullmq or ioredis, which are optional peers.
export { bullmqEngine } from './delivery/engines/bullmq-engine.js'
export type { AttemptSummary, BullmqEngine, MessageRecord, MessageState } from './delivery/engines/bullmq-engine.js'
export type { BullmqEngineOptions } from './delivery/engines/bullmq-options.js'
