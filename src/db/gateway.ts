/**
 * The single query gateway: every SQL statement of a request goes through `query`, `read` or
 * `transaction`, which count it, apply the request's deadline and report it to observers
 * (metrics, traces). Repositories receive a Database and never see the raw pool.
 *
 * Our own code: node-postgres runs statements; counting them per request, budgeting them by
 * the request's deadline (connection-lease.ts), retrying conflicts and transient read failures
 * and mapping failures to the error catalogue is ours (rules in statement-budget.ts and
 * transient-errors.ts). A transaction that began always ends: COMMIT, or ROLLBACK on any error,
 * or its connection destroyed (PostgreSQL then rolls it back) when neither can be trusted.
 */
import type pg from 'pg'
import { noDeadline, type Deadline } from '../deadline/deadline.ts'
import { acquireConnection, type ConnectionLease, type Row } from './connection-lease.ts'
import { compile, sql, type CompiledStatement, type SqlBuilder, type SqlFragment } from './sql-template.ts'
import { needsStatementTimeout, statementTimeoutMs } from './statement-budget.ts'
import { unnamedStatements, type StatementNamer } from './statement-names.ts'
import { sqlOn, type TrustedSql } from './trusted-sql.ts'
import { conflictRetryDelayMs, readRetryDelayMs, translateDatabaseError } from './transient-errors.ts'
import type { ObservedDatabase, StatementEvent as ObservedStatementEvent } from '../observability/observed-database.ts'

export type { Row } from './connection-lease.ts'
type Build = (sql: SqlBuilder) => SqlFragment

/** What the gateway needs from the request: its counter and its deadline. */
export interface QueryScope {
  readonly sqlCounter: { statements: number }
  readonly deadline: Deadline
  /** Transaction ids of the writes committed for this scope (src/db/commits.ts), if it keeps them. */
  readonly commits?: string[]
}

/** A finished statement as observers see it (metrics and tracing read ObservedDatabase's part). */
export interface StatementEvent extends ObservedStatementEvent {
  scope: QueryScope
}

export type StatementObserver = (event: StatementEvent) => void

export interface Database extends ObservedDatabase {
  /** The raw pool, for migrations, scripts and health checks only. */
  readonly pool: pg.Pool
  /** Connections the pool may open (DB_POOL_MAX). */
  readonly poolMax: number
  /** Runs trusted SQL on the pool outside any request: scripts, health checks, tests. */
  readonly sql: TrustedSql
  /** Runs one statement: `db.query(ctx, 'createNote', (sql) => sql\`insert ...\`)`. A deadlock or serialization failure is retried (it had no effect). */
  query<T = Row> (scope: QueryScope, name: string, build: Build): Promise<T[]>
  /**
   * Runs one read-only statement; a transient failure (connection reset, serialization
   * failure, admin shutdown) is retried with jittered backoff within the remaining budget.
   * Inside a transaction it is a plain `query` (a failed statement aborts the transaction).
   */
  read<T = Row> (scope: QueryScope, name: string, build: Build): Promise<T[]>
  /**
   * Runs `work` in one transaction; its statements (and BEGIN/COMMIT) are counted. A deadlock
   * or serialization failure reruns the whole transaction (bounded, jittered, within the
   * budget), so `work` must only touch the database; then CONFLICT.
   */
  transaction<T> (scope: QueryScope, name: string, work: (tx: Database) => Promise<T>): Promise<T>
  /** Adds an observer called after every statement (metrics, tracing); returns its removal. */
  observe (observer: StatementObserver): () => void
  /** Statements and transactions on the pool now, running or queued for a connection (pool gauges). */
  statementsInFlight (): number
  close (): Promise<void>
}

/** `db.sql`: trusted SQL on the pool, for scripts and tests. */
export type Sql = TrustedSql

export interface DatabaseOptions {
  /** The statement_timeout every pooled connection is opened with (DB_TIMEOUT_MS). */
  statementCeilingMs: number
  poolMax: number
  /** Names statements so each connection parses and plans them once (DB_PREPARED_STATEMENTS). */
  nameStatement?: StatementNamer
}

export function createDatabase (pool: pg.Pool, { statementCeilingMs, poolMax, nameStatement = unnamedStatements }: DatabaseOptions): Database {
  const observers: StatementObserver[] = []
  let inFlight = 0

  function notify (event: StatementEvent): void {
    for (const observer of observers) observer(event)
  }

  /** One statement on its own pooled connection. */
  function runAlone (scope: QueryScope, name: string, build: Build): Promise<Row[]> {
    scope.deadline.throwIfExpired('database')
    scope.sqlCounter.statements++
    const statement = named(compile(build(sql)))
    return onConnection(scope, name, statement.text, (lease) => {
      const budget = tighterBudget(scope.deadline)
      if (budget === undefined) return lease.run(statement, scope.deadline)
      // Less is left than DB_TIMEOUT_MS: PostgreSQL gets the exact budget as SET LOCAL in a
      // tiny transaction, so nothing stays on the connection (safe behind a pooler too).
      return inTransactionBlock(lease, scope.deadline, budget, () => lease.run(statement, scope.deadline))
    })
  }

  function transactionOnce<T> (scope: QueryScope, name: string, work: (tx: Database) => Promise<T>): Promise<T> {
    scope.deadline.throwIfExpired('database')
    scope.sqlCounter.statements += 2 // BEGIN and COMMIT/ROLLBACK are round trips too
    // Every statement of the transaction gets at most what is left at its BEGIN.
    return onConnection(scope, `${name}.transaction`, undefined, (lease) =>
      inTransactionBlock(lease, scope.deadline, tighterBudget(scope.deadline), () => work(inTransaction(lease))))
  }

  /**
   * `body` on a pooled connection borrowed for it (TIMEOUT if none comes within the budget),
   * which goes back (or is destroyed, when in doubt) whatever happens; errors are translated
   * to the catalogue, and observers hear of it once.
   */
  async function onConnection<T> (scope: QueryScope, name: string, text: string | undefined, body: (lease: ConnectionLease) => Promise<T>): Promise<T> {
    const { deadline } = scope
    const started = performance.now()
    let ok = false
    inFlight++
    try {
      const lease = await acquireConnection(pool, deadline)
      try {
        // The wait for a connection may have used up the budget: then nothing runs.
        deadline.throwIfExpired('database')
        const result = await body(lease)
        ok = true
        return result
      } finally {
        lease.release()
      }
    } catch (error) {
      throw translateDatabaseError(error, deadline)
    } finally {
      inFlight--
      notify({ name, durationMs: performance.now() - started, ok, scope, text })
    }
  }

  /** The Database handed to a transaction's work: statements run on its one connection. */
  function inTransaction (lease: ConnectionLease): Database {
    const runInside = async (scope: QueryScope, name: string, build: Build): Promise<never[]> => {
      const { deadline } = scope
      deadline.throwIfExpired('database')
      scope.sqlCounter.statements++
      const statement = named(compile(build(sql)))
      const started = performance.now()
      let ok = false
      try {
        const rows = await lease.run(statement, deadline)
        ok = true
        return rows as never[]
      } finally {
        notify({ name, durationMs: performance.now() - started, ok, scope, text: statement.text })
      }
    }
    return {
      ...database,
      query: runInside,
      read: runInside,
      transaction: () => Promise.reject(new Error('nested transactions are not supported'))
    }
  }

  function named (statement: CompiledStatement): CompiledStatement {
    statement.name = nameStatement(statement.text)
    return statement
  }

  /** What is left of the budget when it is clearly below the connection's ceiling. */
  function tighterBudget (deadline: Deadline): number | undefined {
    const remaining = deadline.remainingBudgetMs()
    return needsStatementTimeout(remaining, statementCeilingMs) ? remaining : undefined
  }

  const database: Database = {
    pool,
    poolMax,

    sql: sqlOn(pool),

    query: (scope, name, build) => withRetries(scope, () => runAlone(scope, name, build), conflictRetryDelayMs) as Promise<never[]>,

    read: (scope, name, build) => withRetries(scope, () => runAlone(scope, name, build), readRetryDelayMs) as Promise<never[]>,

    transaction: (scope, name, work) => withRetries(scope, () => transactionOnce(scope, name, work), conflictRetryDelayMs),

    observe (observer) {
      observers.push(observer)
      return () => {
        const index = observers.indexOf(observer)
        if (index >= 0) observers.splice(index, 1)
      }
    },

    statementsInFlight: () => inFlight,

    close: () => pool.end()
  }
  return database
}

function setLocalStatementTimeout (budgetMs: number): CompiledStatement {
  return { text: "select set_config('statement_timeout', $1, true)", values: [statementTimeoutMs(budgetMs)] }
}

/** A scope for work outside any request (scripts, seeding): no budget, its own counter. */
export function unbudgetedScope (): QueryScope {
  return { sqlCounter: { statements: 0 }, deadline: noDeadline }
}

// Private:

const MAX_ATTEMPTS = 3
const ROLLBACK_BUDGET_MS = 1000

type RetryRule = (error: unknown, attempt: number, remainingMs: number) => number | undefined

async function withRetries<T> (scope: QueryScope, attempt: () => Promise<T>, retryDelayMs: RetryRule): Promise<T> {
  for (let number = 1; ; number++) {
    try {
      return await attempt()
    } catch (error) {
      const delay = number < MAX_ATTEMPTS ? retryDelayMs(error, number, scope.deadline.remainingBudgetMs()) : undefined
      if (delay === undefined) throw error
      await sleep(delay, scope.deadline)
    }
  }
}

/**
 * BEGIN, `budgetMs` as SET LOCAL statement_timeout when given, `work`, then COMMIT — or
 * ROLLBACK when anything fails, BEGIN and COMMIT included. COMMIT is never cut short by the
 * deadline: a commit that went through is never reported as a timeout (PostgreSQL's
 * statement_timeout still bounds it). A COMMIT that PostgreSQL interrupts before it takes
 * effect (statement_timeout firing on a busy core) leaves the session in an aborted
 * transaction block, not idle: without the ROLLBACK the connection would go back to the pool
 * answering every later statement with 25P02 (a 1 ms database budget on a slow core does
 * this). A ROLLBACK where no transaction is open only warns.
 */
async function inTransactionBlock<T> (lease: ConnectionLease, deadline: Deadline, budgetMs: number | undefined, work: () => Promise<T>): Promise<T> {
  try {
    await lease.run('begin', deadline)
    if (budgetMs !== undefined) await lease.run(setLocalStatementTimeout(budgetMs), deadline)
    const result = await work()
    await lease.run('commit', undefined)
    return result
  } catch (error) {
    await rollback(lease)
    throw error
  }
}

/**
 * Ends a transaction that failed. A connection that can still talk gets ROLLBACK (bounded: a
 * ROLLBACK that does not answer within a second destroys the connection instead); a broken
 * one is destroyed by its release, and PostgreSQL rolls back what it had begun.
 */
async function rollback (lease: ConnectionLease): Promise<void> {
  if (lease.broken) return
  const deadline = noDeadline.child(ROLLBACK_BUDGET_MS, 'rollback')
  try {
    await lease.run('rollback', deadline)
  } catch {
    lease.broken = true
  } finally {
    deadline.dispose()
  }
}

/** Waits `ms`, or less if the request is aborted meanwhile (the next attempt then throws). */
function sleep (ms: number, deadline: Deadline): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  const { signal } = deadline
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
