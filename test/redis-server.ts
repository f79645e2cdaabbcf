import { whenInstalled } from './needs.js'
import { REDIS_SERVER } from '../scripts/redis-server.js'

export { startRedis } from '../scripts/redis-server.js'
export type { RedisServer } from '../scripts/redis-server.js'

/** Runs a file's tests when redis-server is installed; CI (CI=true) installs it and never skips them. */
export function withRedis (tests: () => void): void {
  whenInstalled(REDIS_SERVER, `redis-server not found at ${REDIS_SERVER}: apt-get install redis-server to run the durable delivery tests`, tests)
}
