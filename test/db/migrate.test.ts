/**
 * Migrations: applied once, in order, recorded; a second run is a no-op; two runners on the
 * same fresh database at once (two processes starting) both succeed and apply each file once.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type pg from 'pg'
import { configWith } from '../../src/config.ts'
import { createPool, dropDatabase, ensureDatabase } from '../../src/db/connect.ts'
import { listMigrations, migrate } from '../../src/db/migrate.ts'
import { sqlOn } from '../../src/db/trusted-sql.ts'
import { testServerUrl } from '../helpers/database.ts'

const created: string[] = []
const pools: pg.Pool[] = []

/** A fresh, empty database and `count` separate pools on it (separate "processes"). */
async function freshDatabase (count: number, { dbTimeoutMs = 20_000 } = {}): Promise<pg.Pool[]> {
  const name = `jotter_migrate_${process.pid}_${randomBytes(4).toString('hex')}`
  created.push(name)
  const url = await ensureDatabase(testServerUrl(), name)
  const opened = Array.from({ length: count }, () => createPool(url, configWith({ dbPoolMax: 2, dbTimeoutMs })))
  pools.push(...opened)
  return opened
}

before(() => { testServerUrl() })
after(async () => {
  await Promise.all(pools.map((pool) => pool.end()))
  for (const name of created) await dropDatabase(testServerUrl(), name)
})

const allVersions = (): number[] => listMigrations().map((m) => m.version)

test('a fresh database gets every migration, recorded; a second run applies nothing', async () => {
  const [pool] = await freshDatabase(1)
  const sql = sqlOn(pool)
  const logged: string[] = []
  assert.deepEqual(await migrate(pool, { log: (line) => logged.push(line) }), allVersions())
  assert.equal(logged.length, allVersions().length)
  const recorded = await sql`select version from schema_migrations order by version`
  assert.deepEqual(recorded.map((row) => row.version), allVersions())
  const [{ count }] = await sql`select count(*)::int as count from information_schema.tables where table_name in ('users', 'notes', 'tags', 'note_tags')`
  assert.equal(count, 4)

  assert.deepEqual(await migrate(pool), [], 'second run: nothing to do')
  const again = await sql`select count(*)::int as count from schema_migrations`
  assert.equal(again[0].count, allVersions().length)
})

test('two concurrent runners on one fresh database: both succeed, each migration applied once', async () => {
  const [first, second] = await freshDatabase(2)
  const [a, b] = await Promise.all([migrate(first), migrate(second)])
  // Each migration was applied by exactly one of them, under the lock, in order.
  assert.deepEqual([...a, ...b].sort((x, y) => x - y), allVersions(), JSON.stringify({ a, b }))
  const rows = await sqlOn(first)`select version, count(*)::int as count from schema_migrations group by version order by version`
  assert.deepEqual(rows.map((row) => [row.version, row.count]), allVersions().map((v) => [v, 1]))
})

test('a failing migration is rolled back, named in the error, and not recorded', async (t) => {
  const [pool] = await freshDatabase(1)
  const sql = sqlOn(pool)
  const dir = mkdtempSync(join(tmpdir(), 'jotter-migrations-'))
  writeFileSync(join(dir, '001-good.sql'), 'create table good (id int);')
  writeFileSync(join(dir, '002-bad.sql'), 'create table half (id int); select * from no_such_table;')
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  await assert.rejects(migrate(pool, { dir }), /migration 2-bad failed: .*no_such_table/)
  const recorded = await sql`select version from schema_migrations order by version`
  assert.deepEqual(recorded.map((row) => row.version), [1])
  const [{ half }] = await sql`select to_regclass('half') is not null as half`
  assert.equal(half, false, 'the failed file left nothing behind')
  // The lock was released: a fixed file applies on the next run.
  writeFileSync(join(dir, '002-bad.sql'), 'create table half (id int);')
  assert.deepEqual(await migrate(pool, { dir }), [2])
})

test('migrations are not bound by the request budget the pool\'s connections carry', async () => {
  // DB_TIMEOUT_MS is every pooled connection's statement_timeout; check:integrity runs with 1 ms.
  const [pool] = await freshDatabase(1, { dbTimeoutMs: 20 })
  const dir = mkdtempSync(join(tmpdir(), 'jotter-migrations-'))
  writeFileSync(join(dir, '001-slow.sql'), 'select pg_sleep(0.2);')
  try {
    assert.deepEqual(await migrate(pool, { dir }), [1])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  // The setting was local to the migration's transaction: the connection keeps the budget.
  const client = await pool.connect()
  try {
    await assert.rejects(client.query('select pg_sleep(0.2)'), (error: { code?: string }) => error.code === '57014')
  } finally {
    client.release()
  }
})
