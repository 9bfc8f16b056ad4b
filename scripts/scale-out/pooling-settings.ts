/**
 * What transaction pooling asks of the database side.
 *
 * The pool opens each connection with three settings in the startup packet (src/db/connect.ts,
 * createPool): statement_timeout, idle_in_transaction_session_timeout and, through `options`,
 * client_connection_check_interval. PgBouncer refuses a startup parameter it does not know,
 * so it is told to ignore those (`ignore_startup_parameters`); but then they would silently
 * not hold, since PgBouncer opens its own server connections. So the same values are set on the
 * database itself (ALTER DATABASE … SET): every new session, whoever opens it, starts with them.
 * The values are createPool's own (`sessionSettings`); a test compares them with what a
 * connection through PgBouncer reports.
 */
import type pg from 'pg'
import { quoteIdentifier, sessionSettings, withOwnConnection } from '../../src/db/connect.ts'

export const ignoredStartupParameters = Object.freeze(['statement_timeout', 'idle_in_transaction_session_timeout', 'options'])

/** In milliseconds, as PostgreSQL reads a bare integer for these settings. */
export type SessionSetting = ReturnType<typeof sessionSettings>[number]

export const serverSideSessionSettings = sessionSettings

/** ALTER DATABASE <the URL's database> SET each setting; returns the statements it ran. */
export async function applyServerSideSessionSettings (directUrl: string, dbTimeoutMs: number): Promise<string[]> {
  return withClient(directUrl, async (client) => {
    const { rows: [{ name }] } = await client.query<{ name: string }>('select current_database() as name')
    const statements = serverSideSessionSettings(dbTimeoutMs).map((setting) =>
      `alter database ${quoteIdentifier(name)} set ${setting.name} = ${Math.trunc(setting.value)}`)
    for (const statement of statements) {
      try {
        await client.query(statement)
      } catch (error) {
        throw new Error(`${statement}: ${(error as Error).message}. Behind PgBouncer the pool's per-connection settings hold only when set on the database: connect as its owner (or a superuser)`)
      }
    }
    return statements
  })
}

/**
 * Session advisory locks held in the URL's database. The migration runner takes one; through
 * transaction pooling its unlock may reach another server connection than its lock did and
 * leave the lock behind, so the topology looks after every instance has started.
 */
export async function heldAdvisoryLocks (directUrl: string): Promise<number> {
  return withClient(directUrl, async (client) => {
    const { rows: [{ count }] } = await client.query<{ count: number }>(`select count(*)::int as count from pg_locks
      where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`)
    return count
  })
}

/** A connection of the script's own (its application_name tells it apart in pg_stat_activity). */
export function withClient<T> (url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withOwnConnection(url, work, { applicationName: 'jotter-scale-out' })
}
