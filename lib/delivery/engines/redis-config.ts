import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'

/** What durable delivery needs of Redis: without either, an acknowledged message can vanish. */
const REQUIRED = {
  appendonly: { value: 'yes', why: 'without the append-only file, a Redis restart loses every message it held' },
  'maxmemory-policy': { value: 'noeviction', why: 'under memory pressure Redis evicts keys, and an evicted job is a lost callback' }
} as const

/**
 * Warns when Redis is not set up to keep what it acknowledged. A server that forbids CONFIG (managed services often do)
 * is not checked: that is said once, and delivery goes on.
 */
export async function checkRedisConfig (client: Redis, log: FastifyBaseLogger): Promise<void> {
  let answer: string[]
  try {
    answer = await client.config('GET', ...Object.keys(REQUIRED)) as string[]
  } catch (error) {
    log.warn({ err: error }, 'could not read the Redis configuration (CONFIG GET refused); make sure Redis runs with appendonly yes and maxmemory-policy noeviction')
    return
  }
  const config = new Map<string, string>()
  for (let index = 0; index < answer.length; index += 2) config.set(answer[index]!, answer[index + 1]!)
  for (const [setting, { value, why }] of Object.entries(REQUIRED)) {
    const actual = config.get(setting)
    if (actual !== value) log.warn({ setting, actual, expected: value }, `Redis has ${setting} ${actual}, not ${value}: ${why}`)
  }
}
