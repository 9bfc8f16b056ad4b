/**
 * The pino logger Fastify uses, secrets redacted. JSON lines for machines; human-readable,
 * coloured lines (pino-pretty) when a person is watching: LOG_FORMAT=auto picks by whether the
 * output is a terminal. `destination` lets tests (and an embedding process) capture the output;
 * by default pino writes to stdout.
 */
import pino, { type DestinationStream, type Logger } from 'pino'
import pinoPretty from 'pino-pretty'
import type { Config } from '../config.ts'

/** Paths censored wherever they appear in a log object: the second line of defence. */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
  '*.password', '*.token', '*.passwordHash', '*.email', '*.authorization',
  'password', 'token', 'email', 'authorization'
]

/** Where log lines go; `isTTY` as on process.stdout tells a terminal. */
export type LogDestination = DestinationStream & { isTTY?: boolean }

export function createLogger (config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: LogDestination): Logger {
  const options = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }
  const terminal = (destination ?? process.stdout).isTTY === true
  if (config.logFormat === 'json' || (config.logFormat === 'auto' && !terminal)) return pino(options, destination)
  return pino(options, pinoPretty({
    destination: destination ?? 1,
    colorize: terminal,
    // A person reads these as they come: no buffered lines lost when the process exits.
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname'
  }))
}
