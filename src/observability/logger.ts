/**
 * The pino logger Fastify uses, secrets redacted. JSON lines for machines; human-readable,
 * coloured lines (pino-pretty) when a person is watching: LOG_FORMAT=auto picks by whether the
 * output is a terminal. `destination` lets tests (and an embedding process) capture the output;
 * by default pino writes to stdout.
 *
 * Two layers of redaction: pino's own `redact` for the known paths (compiled once, cheap), and
 * a walk of every logged object for secret-named keys at any depth and inside arrays, because
 * pino's paths cannot say "anywhere" and a log call far from here (an error's fields, a list
 * of logins) must not be able to leak one.
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

export const CENSOR = '[redacted]'

/** Key names whose values never reach a log line, at any depth. */
const SECRET_KEY = /password|passwd|passphrase|token|secret|authorization|cookie|credential|^email$/i
/** Deeper than this a logged object is cut: nothing we log is deeper, and the walk stays bounded. */
const MAX_WALK_DEPTH = 8

/** Where log lines go; `isTTY` as on process.stdout tells a terminal. */
export type LogDestination = DestinationStream & { isTTY?: boolean }

export function createLogger (config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: LogDestination): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object, 0) as Record<string, unknown> }
  }
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

/**
 * A copy of `value` with every secret-named key censored, at any depth and inside arrays;
 * objects without secrets are returned as they are (no copy). Errors keep their message and
 * stack, which pino's serializer reads.
 */
export function redactSecrets (value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_WALK_DEPTH) return '[too deep]'
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const redacted = redactSecrets(value[i], depth + 1)
      if (redacted !== value[i]) (copy ??= [...value])[i] = redacted
    }
    return copy ?? value
  }
  let copy: Record<string, unknown> | undefined
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const redacted = SECRET_KEY.test(key) && record[key] != null ? CENSOR : redactSecrets(record[key], depth + 1)
    if (redacted !== record[key]) (copy ??= copyOf(record))[key] = redacted
  }
  return copy ?? value
}

// Private:

function copyOf (record: Record<string, unknown>): Record<string, unknown> {
  if (!(record instanceof Error)) return { ...record }
  // An Error's message and stack are not enumerable: keep them, and its type for pino's `err`.
  const copy = Object.assign(Object.create(Object.getPrototypeOf(record)), record) as Record<string, unknown>
  Object.defineProperty(copy, 'message', { value: record.message, enumerable: false, writable: true })
  Object.defineProperty(copy, 'stack', { value: record.stack, enumerable: false, writable: true })
  return copy
}
