/**
 * How the sessions of a database ended, from PostgreSQL's pg_stat_database (13+): a connection
 * the server destroyed mid-statement on a deadline ends "fatal" or "abandoned" (PostgreSQL
 * finds its client gone), one ended by pg_terminate_backend "killed". check:integrity reports
 * them to show its deadlines reached the paths where a driver drops a connection in the middle
 * of an answer; a count, not a verdict.
 */
import pg from 'pg'

export interface SessionEnds {
  /** Sessions ended so far, normally or not. */
  total: number
  abandoned: number
  fatal: number
  killed: number
}

export async function readSessionEnds (adminUrl: string, database: string): Promise<SessionEnds | null> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'jotter-session-ends' })
  await client.connect()
  try {
    const { rows } = await client.query<Record<'sessions' | 'sessions_abandoned' | 'sessions_fatal' | 'sessions_killed', string>>(
      'select sessions, sessions_abandoned, sessions_fatal, sessions_killed from pg_stat_database where datname = $1', [database])
    if (rows.length === 0) return null
    const row = rows[0]
    return { total: Number(row.sessions), abandoned: Number(row.sessions_abandoned), fatal: Number(row.sessions_fatal), killed: Number(row.sessions_killed) }
  } catch (error) {
    // Before PostgreSQL 14 these columns do not exist: nothing to report, nothing wrong.
    if ((error as { code?: unknown }).code === '42703') return null
    throw error
  } finally {
    await client.end()
  }
}
