/**
 * What a PostgreSQL failure means to a client, and which failures may be retried.
 *
 * - query_canceled (57014) or an aborted request → TIMEOUT (the layer that ran out).
 * - A deadlock (40P01) or serialization failure (40001) → CONFLICT: the statement or
 *   transaction had no effect and the gateway reruns it (bounded, jittered, within the
 *   budget); a client that still gets CONFLICT may retry. It is never "unavailable".
 * - The database unreachable or gone (refused, reset, closed, admin shutdown, class 08,
 *   too many connections) → SERVICE_UNAVAILABLE, HTTP 503 + Retry-After: fail fast, no hang.
 * - Reads also retry transient failures of an established server (a reset or killed
 *   connection) with full-jitter exponential backoff, while the budget covers the wait. A
 *   refused connection is not retried: the server is down and the client should hear so at
 *   once. Writes outside a conflict are never retried: a lost COMMIT may have committed.
 */
import { apiError, ApiError } from '../errors.ts'
import type { Deadline } from '../deadline/deadline.ts'

export const RETRY_BASE_DELAY_MS = 25
/** A retry is only worth it if this much budget is left after waiting. */
export const RETRY_MIN_BUDGET_MS = 50

const CONFLICT_CODES = new Set(['40001', '40P01'])

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300'
])

const RETRYABLE_READ_CODES = new Set(['ECONNRESET', 'EPIPE', 'CONNECTION_LOST', '57P01', '57P02', ...CONFLICT_CODES])

export function translateDatabaseError (error: unknown, deadline: Deadline): unknown {
  if (error instanceof ApiError) return error
  const code = codeOf(error)
  if (code === '57014' || deadline.signal.aborted) return deadline.timeoutError('database')
  // The driver's code stays on the error for the retry rules and the logs, never in the response.
  if (code !== undefined && CONFLICT_CODES.has(code)) {
    return Object.assign(apiError('WRITE_CONFLICT'), { databaseCode: code })
  }
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code === 'CONNECTION_LOST')) {
    return Object.assign(apiError('DATABASE_UNAVAILABLE'), { databaseCode: code })
  }
  return error
}

/** Milliseconds to wait before retrying a failed read, or undefined when it must not be retried. */
export function readRetryDelayMs (error: unknown, attempt: number, remainingMs: number): number | undefined {
  return retryDelay(RETRYABLE_READ_CODES, error, attempt, remainingMs)
}

/** The same for a write or a transaction: only a conflict, which left nothing behind. */
export function conflictRetryDelayMs (error: unknown, attempt: number, remainingMs: number): number | undefined {
  return retryDelay(CONFLICT_CODES, error, attempt, remainingMs)
}

// Private:

function retryDelay (codes: ReadonlySet<string>, error: unknown, attempt: number, remainingMs: number): number | undefined {
  const cause = (error as { databaseCode?: unknown }).databaseCode ?? codeOf(error)
  if (typeof cause !== 'string' || !codes.has(cause)) return undefined
  const delay = Math.random() * RETRY_BASE_DELAY_MS * 2 ** (attempt - 1)
  return remainingMs - delay >= RETRY_MIN_BUDGET_MS ? delay : undefined
}

/**
 * The error's code: PostgreSQL's SQLSTATE, Node's socket code, or CONNECTION_LOST for
 * node-postgres's own "Connection terminated" errors, which carry no code.
 */
function codeOf (error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  const message = (error as { message?: unknown } | null)?.message
  if (typeof message === 'string' && /^Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)) return 'CONNECTION_LOST'
  return undefined
}
