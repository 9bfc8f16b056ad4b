/**
 * Applies migrations/NNN-name.sql in order, each in its own transaction, recorded in
 * schema_migrations. A session advisory lock serialises concurrent runners (two processes
 * starting at once): the second waits, then finds nothing left to do.
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

/** Applies what is pending; returns the versions it applied. */
export async function migrate (pool: pg.Pool, { log = (_: string) => {}, dir = migrationsDir } = {}): Promise<number[]> {
  const migrations = listMigrations(dir)
  const connection = await pool.connect()
  let broken: Error | undefined
  try {
    await connection.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID])
    try {
      await connection.query(`create table if not exists schema_migrations (
        version integer primary key, name text not null, applied_at timestamptz not null default now())`)
      const done = new Set((await connection.query('select version from schema_migrations')).rows.map((row) => row.version as number))
      const applied: number[] = []
      for (const migration of migrations.filter((m) => !done.has(m.version))) {
        await connection.query('begin')
        try {
          await connection.query(migration.sql)
          await connection.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name])
          await connection.query('commit')
        } catch (error) {
          await connection.query('rollback')
          throw new Error(`migration ${migration.version}-${migration.name} failed: ${(error as Error).message}`)
        }
        log(`applied migration ${migration.version}-${migration.name}`)
        applied.push(migration.version)
      }
      return applied
    } finally {
      await connection.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID])
    }
  } catch (error) {
    // A connection that failed mid-migration is not handed back to the pool.
    broken = error as Error
    throw error
  } finally {
    connection.release(broken)
  }
}
