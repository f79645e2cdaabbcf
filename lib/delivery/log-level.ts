import type { FastifyBaseLogger } from 'fastify'

/**
 * Whether a line at this level would be written, so that its fields are built only then. A logger without
 * isLevelEnabled (fastify's own when logging is off has none, nor may an app's) is asked for every line.
 */
export function logs (log: FastifyBaseLogger, level: 'debug' | 'info' | 'warn'): boolean {
  const { isLevelEnabled } = log as { isLevelEnabled?: (level: string) => boolean }
  return typeof isLevelEnabled !== 'function' || isLevelEnabled.call(log, level)
}
