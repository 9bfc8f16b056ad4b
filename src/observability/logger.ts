/** The pino logger Fastify uses: JSON lines, secrets redacted. */
import pino, { type Logger } from 'pino'
import type { Config } from '../config.ts'

export function createLogger (config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.passwordHash'],
      censor: '[redacted]'
    }
  })
}
