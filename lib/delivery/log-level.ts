import type { FastifyBaseLogger } from 'fastify'

/**
 * Whether a line at this level would be written, so that its fields are built only then. A logger without
 * isLevelEnabled is asked for every line, unless that level's method is a no-op: Fastify's own logger when logging
 * is off (abstract-logging) has no isLevelEnabled, and each of its methods is a function named `noop`, as pino's
 * disabled levels are.
 */
export function logs (log: FastifyBaseLogger, level: 'debug' | 'info' | 'warn'): boolean {
  const { isLevelEnabled } = log as { isLevelEnabled?: (level: string) => boolean }
  if (typeof isLevelEnabled === 'function') return isLevelEnabled.call(log, level)
  return log[level].name !== 'noop'
}
