/**
 * The single query gateway: every SQL statement of a request goes through `query` or
 * `transaction`, which count it, apply the request's deadline and report it to observers
 * (metrics, traces). Repositories receive a Database and never see the raw pool.
 *
 * Our own code: postgres.js runs statements; counting them per request, budgeting them by
 * the request's deadline and cancelling them on abort is ours.
 */
import type postgres from 'postgres'
import { apiError, ApiError } from '../errors.ts'
import type { Deadline } from '../deadline/deadline.ts'

export type Sql = postgres.Sql<Record<string, never>>
export type TransactionSql = postgres.TransactionSql<Record<string, never>>
type AnySql = Sql | TransactionSql
export type Row = Record<string, unknown>

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
}

export type StatementObserver = (event: StatementEvent) => void

export interface Database {
  /** The raw pool, for migrations, scripts and health checks only. */
  readonly sql: Sql
  /** Runs one statement: `db.query(ctx, 'notesById', (sql) => sql\`select ...\`)`. */
  query<T = Row> (scope: QueryScope, name: string, build: (sql: AnySql) => postgres.PendingQuery<postgres.Row[]>): Promise<T[]>
  /** Runs `work` in one transaction; its statements (and BEGIN/COMMIT) are counted. */
  transaction<T> (scope: QueryScope, name: string, work: (tx: Database) => Promise<T>): Promise<T>
  /** Adds an observer called after every statement (metrics, tracing). */
  observe (observer: StatementObserver): void
  close (): Promise<void>
}

export function createDatabase (sql: Sql): Database {
  const observers: StatementObserver[] = []
  return wrap(sql, sql, observers)
}

// Private:

function wrap (pool: Sql, runner: AnySql, observers: StatementObserver[]): Database {
  function notify (event: StatementEvent): void {
    for (const observer of observers) observer(event)
  }

  return {
    sql: pool,

    async query (scope, name, build) {
      scope.deadline.throwIfExpired('database')
      scope.sqlCounter.statements++
      const pending = build(runner)
      const cancel = (): void => pending.cancel()
      scope.deadline.signal.addEventListener('abort', cancel, { once: true })
      const started = performance.now()
      let ok = false
      try {
        const rows = await pending
        ok = true
        return rows as unknown as never
      } catch (error) {
        throw translate(error, scope)
      } finally {
        scope.deadline.signal.removeEventListener('abort', cancel)
        notify({ name, durationMs: performance.now() - started, ok, scope })
      }
    },

    async transaction<T> (scope: QueryScope, name: string, work: (tx: Database) => Promise<T>): Promise<T> {
      scope.deadline.throwIfExpired('database')
      if (!('begin' in runner)) throw new Error('nested transactions are not supported')
      scope.sqlCounter.statements += 2 // BEGIN and COMMIT/ROLLBACK are round trips too
      const started = performance.now()
      let ok = false
      try {
        const result = await (runner as Sql).begin(async (tx) => {
          // PostgreSQL itself enforces what is left of the budget on every statement of it.
          const budget = Math.max(1, Math.floor(scope.deadline.remainingBudgetMs()))
          if (Number.isFinite(budget)) {
            scope.sqlCounter.statements++
            await tx`select set_config('statement_timeout', ${String(budget)}, true)`
          }
          return work(wrap(pool, tx, observers))
        })
        ok = true
        return result as T
      } catch (error) {
        throw translate(error, scope)
      } finally {
        notify({ name: `${name}.transaction`, durationMs: performance.now() - started, ok, scope })
      }
    },

    observe (observer) {
      observers.push(observer)
    },

    close: () => pool.end({ timeout: 5 })
  } as Database
}

/** Cancellation and statement timeouts become TIMEOUT; everything else passes through. */
function translate (error: unknown, scope: QueryScope): unknown {
  if (error instanceof ApiError) return error
  const code = (error as { code?: string } | null)?.code
  if (code === '57014' || scope.deadline.signal.aborted) {
    return apiError('TIMEOUT', 'The request ran out of time (database).', { layer: 'database' })
  }
  return error
}
