/**
 * Applies migrations/NNN-name.sql in order, each in its own transaction, recorded in
 * schema_migrations. A session advisory lock serialises concurrent runners (two processes
 * starting at once): the second waits, then finds nothing left to do.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sql } from './gateway.ts'

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
export async function migrate (sql: Sql, { log = (_: string) => {}, dir = migrationsDir } = {}): Promise<number[]> {
  const migrations = listMigrations(dir)
  const connection = await sql.reserve()
  try {
    await connection`select pg_advisory_lock(${MIGRATION_LOCK_ID})`
    try {
      await connection`create table if not exists schema_migrations (
        version integer primary key, name text not null, applied_at timestamptz not null default now())`
      const done = new Set((await connection`select version from schema_migrations`).map((row) => row.version as number))
      const applied: number[] = []
      for (const migration of migrations.filter((m) => !done.has(m.version))) {
        await connection.unsafe('begin')
        try {
          await connection.unsafe(migration.sql)
          await connection`insert into schema_migrations (version, name) values (${migration.version}, ${migration.name})`
          await connection.unsafe('commit')
        } catch (error) {
          await connection.unsafe('rollback')
          throw new Error(`migration ${migration.version}-${migration.name} failed: ${(error as Error).message}`)
        }
        log(`applied migration ${migration.version}-${migration.name}`)
        applied.push(migration.version)
      }
      return applied
    } finally {
      await connection`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`
    }
  } finally {
    connection.release()
  }
}
