/**
 * The pino logger Fastify uses: JSON lines, secrets redacted. `destination` lets tests (and an
 * embedding process) capture the output; by default pino writes to stdout.
 */
import pino, { type DestinationStream, type Logger } from 'pino'
import type { Config } from '../config.ts'

/** Paths censored wherever they appear in a log object: the second line of defence. */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
  '*.password', '*.token', '*.passwordHash', '*.email', '*.authorization',
  'password', 'token', 'email', 'authorization'
]

export function createLogger (config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' }
  }, destination)
}
