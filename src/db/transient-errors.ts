/**
 * What a PostgreSQL failure means to a client, and which failures a read may retry.
 *
 * - query_canceled (57014) or an aborted request → TIMEOUT (the layer that ran out).
 * - The database unreachable or gone (refused, reset, closed, admin shutdown, class 08,
 *   too many connections) → SERVICE_UNAVAILABLE, HTTP 503 + Retry-After: fail fast, no hang.
 * - Reads retry only transient failures of an established server (a reset or killed
 *   connection, serialization failure, deadlock), with full-jitter exponential backoff, and
 *   only while the request's budget still covers the wait. A refused connection is not
 *   retried: the server is down and the client should hear so at once.
 */
import { apiError, ApiError } from '../errors.ts'
import type { Deadline } from '../deadline/deadline.ts'

export const RETRY_BASE_DELAY_MS = 25
/** A retry is only worth it if this much budget is left after waiting. */
export const RETRY_MIN_BUDGET_MS = 50

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '57P01', '57P02', '57P03', '53300', '40001', '40P01'
])

const RETRYABLE_READ_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', '57P01', '57P02', '40001', '40P01'
])

export function translateDatabaseError (error: unknown, deadline: Deadline): unknown {
  if (error instanceof ApiError) return error
  const code = codeOf(error)
  if (code === '57014' || deadline.signal.aborted) return deadline.timeoutError('database')
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) {
    // The driver's code stays on the error for the retry rule and the logs, never in the response.
    return Object.assign(apiError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.'), { databaseCode: code })
  }
  return error
}

/** Milliseconds to wait before retrying a failed read, or undefined when it must not be retried. */
export function retryDelayMs (error: unknown, attempt: number, remainingMs: number): number | undefined {
  const cause = (error as { databaseCode?: unknown }).databaseCode ?? codeOf(error)
  if (typeof cause !== 'string' || !RETRYABLE_READ_CODES.has(cause)) return undefined
  const delay = Math.random() * RETRY_BASE_DELAY_MS * 2 ** (attempt - 1)
  return remainingMs - delay >= RETRY_MIN_BUDGET_MS ? delay : undefined
}

// Private:

function codeOf (error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
