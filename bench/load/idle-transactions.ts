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
      const { rows } = await client.query<{ pid: number, state: string, idle_ms: string, query: string, application_name: string }>(
        `select pid, state, (extract(epoch from clock_timestamp() - state_change) * 1000)::bigint as idle_ms, query, application_name
           from pg_stat_activity
          where datname = $1 and state like 'idle in transaction%' and pid <> pg_backend_pid()
          order by pid`, [database])
      if (rows.length === 0 || Date.now() >= deadline) {
        return rows.map((row) => ({ pid: row.pid, state: row.state, idleMs: Number(row.idle_ms), lastQuery: row.query, applicationName: row.application_name }))
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await client.end()
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
