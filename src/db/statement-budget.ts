/**
 * How much time PostgreSQL gives one statement: the smaller of DB_TIMEOUT_MS and what the
 * request has left.
 *
 * DB_TIMEOUT_MS is set once per pooled connection (statement_timeout in the startup packet,
 * see connect.ts), so most statements pay nothing. Only when the request has clearly less left
 * than that ceiling does the gateway send the exact budget as `set_config(..., true)` (SET
 * LOCAL): a lone statement is then wrapped in BEGIN … COMMIT (three extra round trips, paid
 * only late in a request, when the budget is already mostly spent); a transaction sets it once
 * after BEGIN for all its statements, and the deadline's abort (connection-lease.ts) covers the
 * rest. Nothing is set at session level, so no state outlives the statement, which keeps
 * the pool safe behind a transaction-pooling PgBouncer.
 * Within CANCEL_MARGIN_MS of the ceiling PostgreSQL's ceiling is precise enough and no extra
 * round trip is made.
 */

/** Below the ceiling by less than this, the connection's own statement_timeout is the bound. */
export const CANCEL_MARGIN_MS = 100

/** True when the remaining budget is below the connection's ceiling by more than the margin. */
export function needsStatementTimeout (remainingMs: number, ceilingMs: number): boolean {
  return Number.isFinite(remainingMs) && remainingMs < ceilingMs - CANCEL_MARGIN_MS
}

/** statement_timeout as PostgreSQL wants it: whole milliseconds, at least 1 (0 means "none"). */
export function statementTimeoutMs (remainingMs: number): string {
  return String(Math.max(1, Math.floor(remainingMs)))
}
