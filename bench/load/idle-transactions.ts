/**
 * Connections left inside a transaction after a load: the sign of a request that began a
 * transaction and never ended it (its connection holds locks and is lost to the pool). Read
 * from PostgreSQL's own pg_stat_activity with node-postgres, on a connection of our own.
 */
import pg from 'pg'

export interface IdleTransaction {
  pid: number
  /** "idle in transaction" or "idle in transaction (aborted)". */
  state: string
  /** How long it has been in that state, in ms. */
  idleMs: number
  /** The last statement it ran. */
  lastQuery: string
  applicationName: string
}

export interface IdleTransactionOptions {
  /** Any URL on the server; the connection used to look. */
  adminUrl: string
  /** The database whose connections count. */
  database: string
  /**
   * Look again until none is left or this many ms have passed: a transaction between two
   * statements is idle for an instant, a leaked one for good. Default 3000.
   */
  settleMs?: number
}

/** The connections of `database` still idle in a transaction after `settleMs`; [] = none. */
export async function findIdleTransactions ({ adminUrl, database, settleMs = 3000 }: IdleTransactionOptions): Promise<IdleTransaction[]> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'jotter-idle-check' })
  await client.connect()
  try {
    const deadline = Date.now() + settleMs
    for (;;) {
      const { rows } = await client.query<IdleRow>(`${IDLE_QUERY} order by pid`, [database])
      if (rows.length === 0 || Date.now() >= deadline) return rows.map(toIdleTransaction)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await client.end()
  }
}

export interface IdleTransactionWatchOptions {
  adminUrl: string
  database: string
  /** Idle in a transaction for longer than this counts; it must stay below the server's own backstop. */
  minIdleMs: number
  /** How often to look. Default 200. */
  intervalMs?: number
}

export interface IdleTransactionWatch {
  /** Stops looking; every session seen idle in a transaction for longer than minIdleMs, its longest sighting. */
  stop (): Promise<IdleTransaction[]>
}

/**
 * Looks at pg_stat_activity while a load runs. A leaked transaction does not last: PostgreSQL's
 * idle_in_transaction_session_timeout (a little above DB_TIMEOUT_MS) ends it, so a look after
 * the load finds only the leaks of its last second. Under budgets of tens of ms no sound
 * transaction waits half a second between two statements, so one that does was leaked.
 */
export async function watchIdleTransactions ({ adminUrl, database, minIdleMs, intervalMs = 200 }: IdleTransactionWatchOptions): Promise<IdleTransactionWatch> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'jotter-idle-check' })
  client.on('error', () => {}) // a failed query says it; a dropped connection must not end the process
  await client.connect()
  const seen = new Map<number, IdleTransaction>()
  let stopped = false
  let failure: Error | null = null
  const looking = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- stop() sets it from outside the loop
    while (!stopped) {
      try {
        const { rows } = await client.query<IdleRow>(
          `${IDLE_QUERY} and clock_timestamp() - state_change > make_interval(secs => $2::float8 / 1000)`, [database, minIdleMs])
        for (const row of rows) {
          const found = toIdleTransaction(row)
          if ((seen.get(found.pid)?.idleMs ?? -1) < found.idleMs) seen.set(found.pid, found)
        }
      } catch (error) {
        failure = error as Error
        return
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  })()
  return {
    async stop () {
      stopped = true
      await looking
      await client.end()
      if (failure !== null) throw new Error(`watching pg_stat_activity failed: ${(failure as Error).message}`)
      return [...seen.values()]
    }
  }
}

/** "3 idle in transaction (2 aborted), last statements: begin ×2, insert into tags … ×1". */
export function describeIdleTransactions (found: readonly IdleTransaction[]): string {
  if (found.length === 0) return 'none'
  const aborted = found.filter((entry) => entry.state.includes('aborted')).length
  const byQuery = new Map<string, number>()
  for (const entry of found) {
    const text = entry.lastQuery.replace(/\s+/g, ' ').trim()
    const short = text.length > 60 ? `${text.slice(0, 60)}…` : text
    byQuery.set(short, (byQuery.get(short) ?? 0) + 1)
  }
  const oldest = Math.max(...found.map((entry) => entry.idleMs))
  return `${found.length} idle in transaction (${aborted} aborted; the oldest for ${(oldest / 1000).toFixed(1)} s), ` +
    `last statements: ${[...byQuery].map(([query, count]) => `${query} ×${count}`).join(', ')}`
}

// Private:

interface IdleRow {
  pid: number
  state: string
  idle_ms: string
  query: string
  application_name: string
}

const IDLE_QUERY = `select pid, state, (extract(epoch from clock_timestamp() - state_change) * 1000)::bigint as idle_ms, query, application_name
    from pg_stat_activity
   where datname = $1 and state like 'idle in transaction%' and pid <> pg_backend_pid()`

function toIdleTransaction (row: IdleRow): IdleTransaction {
  return { pid: row.pid, state: row.state, idleMs: Number(row.idle_ms), lastQuery: row.query, applicationName: row.application_name }
}
