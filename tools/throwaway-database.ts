/**
 * tools/: the dev tooling bench/, scripts/ and test/ share, so that none of them borrows
 * from test/ (lint forbids it); src/, the product, never imports tools/.
 *
 * A database of its own for one run (a test file, a benchmark, a check): created on the
 * PostgreSQL server at `serverUrl`, or, without one, on a throwaway embedded PostgreSQL
 * (throwaway-postgres.ts). `drop()` removes everything it made: the database, or the embedded
 * server and its directory; a creation that fails half-way removes what it made so far.
 *
 * `createThrowawayDatabase` leaves it empty unless asked to migrate (a Jotter process started
 * on it migrates it itself); `openThrowawayDatabase` migrates it and opens the gateway over a
 * pool, the `database` that buildApp takes.
 */
import { randomBytes } from 'node:crypto'
import { configWith } from '../src/config.ts'
import { createPool, dropDatabase, ensureDatabase, openPool, type OpenedDatabase } from '../src/db/connect.ts'
import { migrate } from '../src/db/migrate.ts'
import { redactPassword } from './redact-password.ts'
import { startThrowawayPostgres } from './throwaway-postgres.ts'

export interface ThrowawayDatabase {
  name: string
  url: string
  /** The server it lives on, password redacted (for reports). */
  serverUrl: string
  /** The postmaster of the embedded server started for it; null on a server given (not ours). */
  postmasterPid: number | null
  /** Drops it, ending its sessions, or stops and removes the embedded server started for it. */
  drop (): Promise<void>
}

export interface ThrowawayDatabaseOptions {
  /** A PostgreSQL server to create the database on; unset = a throwaway embedded one. */
  serverUrl: string | undefined
  /** The database name starts with this, then the pid and a random suffix. */
  namePrefix: string
  /** Apply migrations/ (default false). */
  migrate?: boolean
  log?: (line: string) => void
}

export interface OpenedThrowawayDatabase extends ThrowawayDatabase, OpenedDatabase {
  /** Closes the pool (once), then drops the database as ThrowawayDatabase's drop does. */
  drop (): Promise<void>
}

export interface OpenThrowawayDatabaseOptions extends Omit<ThrowawayDatabaseOptions, 'migrate'> {
  /** The pool's size (default 10). */
  poolMax?: number
  /** The pool's statement_timeout, as DB_TIMEOUT_MS (default 20 000). */
  dbTimeoutMs?: number
}

export async function createThrowawayDatabase ({ serverUrl, namePrefix, migrate: migrated = false, log = () => {} }: ThrowawayDatabaseOptions): Promise<ThrowawayDatabase> {
  const name = `${namePrefix}_${process.pid}_${randomBytes(4).toString('hex')}`
  const server = serverUrl === undefined ? await startThrowawayPostgres({ dirPrefix: `${namePrefix.replaceAll('_', '-')}-pg`, log }) : undefined
  const adminUrl = serverUrl ?? server!.url
  // The embedded server's directory holds the database: removing it is the drop.
  const drop = (): Promise<void> => server ? server.stop() : dropDatabase(adminUrl, name)
  try {
    const url = await ensureDatabase(adminUrl, name)
    if (migrated) {
      const pool = createPool(url, configWith({ dbPoolMax: 1 }))
      try {
        await migrate(pool)
      } finally {
        await pool.end()
      }
    }
    return { name, url, serverUrl: redactPassword(adminUrl), postmasterPid: server?.postmasterPid ?? null, drop }
  } catch (error) {
    // The first failure is the one to report; a drop failing after it says nothing new.
    await drop().catch(() => {})
    throw error
  }
}

export async function openThrowawayDatabase ({ poolMax = 10, dbTimeoutMs = 20_000, ...options }: OpenThrowawayDatabaseOptions): Promise<OpenedThrowawayDatabase> {
  const database = await createThrowawayDatabase(options)
  const config = configWith({ dbPoolMax: poolMax, dbTimeoutMs })
  const pool = createPool(database.url, config)
  try {
    await migrate(pool)
  } catch (error) {
    await pool.end()
    await database.drop().catch(() => {})
    throw error
  }
  const db = openPool(pool, config)
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => (closed ??= db.close())
  return {
    ...database,
    db,
    close,
    async drop () {
      try {
        await close()
      } finally {
        await database.drop()
      }
    }
  }
}
