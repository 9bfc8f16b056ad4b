/**
 * Applies migrations/NNN-name.sql in order, each in its own transaction, recorded in
 * schema_migrations. An advisory lock serialises concurrent runners (two processes starting at
 * once): the second waits, then finds nothing left to do.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'

export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations')

// Any fixed 64-bit number; it names "the Jotter migration lock" for pg_advisory_lock.
const MIGRATION_LOCK_ID = 7_411_020_203

export interface Migration {
  version: number
  name: string
  sql: string
}

export function listMigrations (dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{3}-[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(join(dir, file), 'utf8')
    }))
}

/**
 * Applies what is pending; returns the versions it applied. Each migration runs in its own
 * transaction that first takes a transaction-level advisory lock and then reads what is left:
 * a second runner waits, then finds nothing to do. A transaction-level lock (not a session one)
 * works behind PgBouncer's transaction pooling too, where a session's lock and unlock could
 * land on different server connections and leave the lock held.
 */
export async function migrate (pool: pg.Pool, { log = (_: string) => {}, dir = migrationsDir } = {}): Promise<number[]> {
  const migrations = listMigrations(dir)
  const connection = await pool.connect()
  let broken: Error | undefined
  try {
    const applied: number[] = []
    for (;;) {
      // The pool's connections carry the request budget as statement_timeout (DB_TIMEOUT_MS,
      // 1 ms in check:integrity): migrations are not requests. SET LOCAL, in the same message
      // as BEGIN, so the setting ends with the transaction and the connection goes back as it came.
      await connection.query('begin; set local statement_timeout = 0')
      try {
        await connection.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID])
        await connection.query(`create table if not exists schema_migrations (
          version integer primary key, name text not null, applied_at timestamptz not null default now())`)
        const done = new Set((await connection.query('select version from schema_migrations')).rows.map((row) => row.version as number))
        const next = migrations.find((m) => !done.has(m.version))
        if (next === undefined) {
          await connection.query('commit')
          return applied
        }
        try {
          await connection.query(next.sql)
        } catch (error) {
          throw new Error(`migration ${next.version}-${next.name} failed: ${(error as Error).message}`)
        }
        await connection.query('insert into schema_migrations (version, name) values ($1, $2)', [next.version, next.name])
        await connection.query('commit')
        log(`applied migration ${next.version}-${next.name}`)
        applied.push(next.version)
      } catch (error) {
        await connection.query('rollback')
        throw error
      }
    }
  } catch (error) {
    // A connection that failed mid-migration is not handed back to the pool.
    broken = error as Error
    throw error
  } finally {
    connection.release(broken)
  }
}
