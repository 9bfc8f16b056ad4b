/**
 * The single query gateway: every SQL statement of a request goes through `query`, `read` or
 * `transaction`, which count it, apply the request's deadline and report it to observers
 * (metrics, traces). Repositories receive a Database and never see the raw pool.
 *
 * Our own code: postgres.js runs statements; counting them per request, budgeting them by
 * the request's deadline, cancelling them on abort, retrying transient read failures and
 * mapping a lost database to SERVICE_UNAVAILABLE is ours (budget and retry rules live in
 * statement-budget.ts and transient-errors.ts).
 */
import type postgres from 'postgres'
import { ApiError } from '../errors.ts'
import type { Deadline } from '../deadline/deadline.ts'
import { connectionTimeoutMs, needsStatementTimeout, statementTimeoutMs } from './statement-budget.ts'
import { retryDelayMs, translateDatabaseError } from './transient-errors.ts'

export type Sql = postgres.Sql<Record<string, never>>
export type TransactionSql = postgres.TransactionSql<Record<string, never>>
type AnySql = Sql | TransactionSql
export type Row = Record<string, unknown>
type Build = (sql: AnySql) => postgres.PendingQuery<postgres.Row[]>

/** What the gateway needs from the request: its counter and its deadline. */
export interface QueryScope {
  readonly sqlCounter: { statements: number }
  readonly deadline: Deadline
}

export interface StatementEvent {
  name: string
  durationMs: number
  ok: boolean
  scope: QueryScope
  /** The statement's template strings, values left out (traces show the text); absent for a transaction. */
  strings?: readonly string[]
}

export type StatementObserver = (event: StatementEvent) => void

export interface Database {
  /** The raw pool, for migrations, scripts and health checks only. */
  readonly sql: Sql
  /** Runs one statement, never retried: `db.query(ctx, 'insertNote', (sql) => sql\`insert ...\`)`. */
  query<T = Row> (scope: QueryScope, name: string, build: Build): Promise<T[]>
  /**
   * Runs one read-only statement; a transient failure (connection reset, serialization
   * failure, admin shutdown) is retried with jittered backoff within the remaining budget.
   * Inside a transaction it is a plain `query` (a failed statement aborts the transaction).
   */
  read<T = Row> (scope: QueryScope, name: string, build: Build): Promise<T[]>
  /** Runs `work` in one transaction; its statements (and BEGIN/COMMIT) are counted. Never retried. */
  transaction<T> (scope: QueryScope, name: string, work: (tx: Database) => Promise<T>): Promise<T>
  /** Adds an observer called after every statement (metrics, tracing); returns its removal. */
  observe (observer: StatementObserver): () => void
  /** Statements and transactions on the pool now, running or queued for a connection (pool gauges). */
  statementsInFlight (): number
  close (): Promise<void>
}

export function createDatabase (sql: Sql): Database {
  const observers: StatementObserver[] = []
  return wrap(sql, sql, observers, connectionTimeoutMs(sql))
}

// Private:

const MAX_READ_ATTEMPTS = 3

function wrap (pool: Sql, runner: AnySql, observers: StatementObserver[], ceilingMs: number): Database {
  const inTransaction = runner !== pool
  // Each pool-level statement or transaction holds (or waits for) one connection; statements
  // inside a transaction use the transaction's, so only the pool-level wrapper counts.
  let inFlight = 0

  function notify (event: StatementEvent): void {
    for (const observer of observers) observer(event)
  }

  async function runOnce (scope: QueryScope, name: string, build: Build): Promise<postgres.Row[]> {
    const { deadline } = scope
    deadline.throwIfExpired('database')
    scope.sqlCounter.statements++
    let pending: postgres.PendingQuery<postgres.Row[]> | undefined
    const cancel = (): void => pending?.cancel()
    deadline.signal.addEventListener('abort', cancel, { once: true })
    const started = performance.now()
    let ok = false
    if (!inTransaction) inFlight++
    try {
      const remaining = deadline.remainingBudgetMs()
      let rows: postgres.Row[]
      if (!needsStatementTimeout(remaining, ceilingMs)) {
        // The connection's statement_timeout (DB_TIMEOUT_MS) is already the smaller bound.
        pending = build(runner)
        rows = await pending
      } else if (inTransaction) {
        await runner`select set_config('statement_timeout', ${statementTimeoutMs(remaining)}, true)`
        pending = build(runner)
        rows = await pending
      } else {
        // Less is left than DB_TIMEOUT_MS: PostgreSQL gets the exact budget as SET LOCAL in a
        // tiny transaction whose statements are pipelined (see statement-budget.ts for cost).
        let begun = false
        const results = await whileQueued((runner as Sql).begin((tx) => {
          begun = true
          // The wait for a pooled connection may have used up the budget: run nothing then,
          // and budget what is left now, not what was left before the wait.
          deadline.throwIfExpired('database')
          pending = build(tx)
          return [tx`select set_config('statement_timeout', ${statementTimeoutMs(deadline.remainingBudgetMs())}, true)`, pending] as const
        }), deadline, () => begun)
        rows = results[1] as unknown as postgres.Row[]
      }
      ok = true
      return rows
    } catch (error) {
      throw translateDatabaseError(error, deadline)
    } finally {
      deadline.signal.removeEventListener('abort', cancel)
      if (!inTransaction) inFlight--
      notify({ name, durationMs: performance.now() - started, ok, scope, strings: (pending as { strings?: readonly string[] } | undefined)?.strings })
    }
  }

  const database: Database = {
    sql: pool,

    query: (scope, name, build) => runOnce(scope, name, build) as Promise<never[]>,

    async read (scope, name, build) {
      if (inTransaction) return runOnce(scope, name, build) as Promise<never[]>
      for (let attempt = 1; ; attempt++) {
        try {
          return await runOnce(scope, name, build) as never[]
        } catch (error) {
          const delay = attempt < MAX_READ_ATTEMPTS ? retryDelayMs(error, attempt, scope.deadline.remainingBudgetMs()) : undefined
          if (delay === undefined) throw error
          await sleep(delay, scope.deadline.signal)
        }
      }
    },

    async transaction<T> (scope: QueryScope, name: string, work: (tx: Database) => Promise<T>): Promise<T> {
      scope.deadline.throwIfExpired('database')
      if (inTransaction) throw new Error('nested transactions are not supported')
      scope.sqlCounter.statements += 2 // BEGIN and COMMIT/ROLLBACK are round trips too
      const started = performance.now()
      let ok = false
      inFlight++
      try {
        let begun = false
        const result = await whileQueued((runner as Sql).begin(async (tx) => {
          begun = true
          // As above: a budget spent waiting for a connection runs (and writes) nothing.
          scope.deadline.throwIfExpired('database')
          const remaining = scope.deadline.remainingBudgetMs()
          if (needsStatementTimeout(remaining, ceilingMs)) {
            // PostgreSQL itself enforces what is left of the budget on every statement of it.
            scope.sqlCounter.statements++
            await tx`select set_config('statement_timeout', ${statementTimeoutMs(remaining)}, true)`
          }
          return work(wrap(pool, tx, observers, ceilingMs))
        }), scope.deadline, () => begun)
        ok = true
        return result as T
      } catch (error) {
        throw error instanceof ApiError ? error : translateDatabaseError(error, scope.deadline)
      } finally {
        inFlight--
        notify({ name: `${name}.transaction`, durationMs: performance.now() - started, ok, scope })
      }
    },

    observe (observer) {
      observers.push(observer)
      return () => {
        const index = observers.indexOf(observer)
        if (index >= 0) observers.splice(index, 1)
      }
    },

    statementsInFlight: () => inFlight,

    close: () => pool.end({ timeout: 5 })
  }
  return database
}

/**
 * `work`, or the deadline's TIMEOUT if it fires while `work` is still queued for a pooled
 * connection (`begun()` false): a wait the cancel of a running statement cannot reach. The
 * queued work goes on and throws at its start (throwIfExpired), running nothing. Once begun,
 * an abort is left to the statements' own cancel, so a COMMIT that went through is never
 * reported as a timeout.
 */
function whileQueued<T> (work: Promise<T>, deadline: Deadline, begun: () => boolean): Promise<T> {
  const { signal } = deadline
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      if (begun()) return
      work.catch(() => {}) // it fails with TIMEOUT at its start; nobody waits for it any more
      reject(deadline.timeoutError('database'))
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** Waits `ms`, or less if the request is aborted meanwhile (the next attempt then throws). */
function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
