/**
 * `npm run seed` (scripts/seed.ts): the data set goes in once, and the planner has statistics
 * for it when seeding ends, not only when autovacuum next runs.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import pg from 'pg'
import { sqlOn } from '../../src/db/trusted-sql.ts'
import { seed } from '../../scripts/seed.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
let pool: pg.Pool
before(async () => {
  database = await createTestDatabase()
  pool = new pg.Pool({ connectionString: database.url, max: 2 })
})
after(async () => {
  await pool.end()
  await database.drop()
})

test('seeds users and notes once, then analyzes the tables it wrote', async () => {
  const sql = sqlOn(pool)
  const analyzed = async (): Promise<Record<string, boolean>> => Object.fromEntries((await sql`
    select relname, last_analyze is not null as analyzed from pg_stat_user_tables
    where relname in ('users', 'notes', 'tags', 'note_tags') order by relname`).map((row) => [row.relname, row.analyzed]))
  assert.deepEqual(await analyzed(), { note_tags: false, notes: false, tags: false, users: false }, 'a fresh database has no statistics')

  assert.deepEqual(await seed(pool, { users: 3, notesPerUser: 2 }), { created: 3, skipped: 0 })
  const [{ users, notes }] = await sql`select (select count(*)::int from users) as users, (select count(*)::int from notes) as notes`
  assert.deepEqual({ users, notes }, { users: 3, notes: 6 })
  assert.deepEqual(await analyzed(), { note_tags: true, notes: true, tags: true, users: true })

  assert.deepEqual(await seed(pool, { users: 3, notesPerUser: 2 }), { created: 0, skipped: 3 }, 'a second run skips every user')
})
