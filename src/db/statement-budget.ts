/**
 * How much time PostgreSQL gives one statement: the smaller of DB_TIMEOUT_MS and what the
 * request has left.
 *
 * DB_TIMEOUT_MS is set once per pooled connection (statement_timeout in the startup packet,
 * see connect.ts), so most statements pay nothing. Only when the request has clearly less left
 * than that ceiling does the gateway send the exact budget as `set_config(..., true)` (SET
 * LOCAL) with the statement: that costs BEGIN + (SET, statement) pipelined + COMMIT, i.e. two
 * extra round trips. Measured with `node --import tsx test/deadline/statement-budget.bench.ts`
 * (see docs/resilience.md): roughly 2.5× a bare primary-key read on a local server, which is why
 * it is paid only late in a request, when the budget is already mostly spent. Within
 * CANCEL_MARGIN_MS of the ceiling the abort signal's cancel (postgres.js query.cancel()) is
 * precise enough and no extra round trip is made.
 */
import type { Sql } from './gateway.ts'

/** Below the ceiling by less than this, cancelling on abort is the enforcement. */
export const CANCEL_MARGIN_MS = 100

/** The statement_timeout the pool's connections were opened with (Infinity when none). */
export function connectionTimeoutMs (sql: Sql): number {
  const options = (sql as unknown as { options?: { connection?: Record<string, unknown> } }).options
  const value = Number(options?.connection?.statement_timeout)
  return value > 0 ? value : Number.POSITIVE_INFINITY
}

/** True when the remaining budget is below the connection's ceiling by more than the margin. */
export function needsStatementTimeout (remainingMs: number, ceilingMs: number): boolean {
  return Number.isFinite(remainingMs) && remainingMs < ceilingMs - CANCEL_MARGIN_MS
}

/** statement_timeout as PostgreSQL wants it: whole milliseconds, at least 1 (0 means "none"). */
export function statementTimeoutMs (remainingMs: number): string {
  return String(Math.max(1, Math.floor(remainingMs)))
}
