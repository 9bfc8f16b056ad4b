/**
 * Transient failures: reads are retried with backoff within the budget; writes and
 * transactions only after a conflict (serialization failure or deadlock: nothing was applied),
 * and never after a lost connection (a COMMIT may have gone through). A serialization failure
 * (40001) or a connection failure is raised on demand by the statement itself.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createDeadline } from '../../src/deadline/deadline.ts'
import type { QueryScope } from '../../src/db/gateway.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
before(async () => { database = await createTestDatabase() })
after(() => database.drop())

const serializationFailure = "do $$ begin raise exception 'conflict' using errcode = '40001'; end $$"

function scope (budgetMs = 5000): QueryScope {
  return { deadline: createDeadline(budgetMs), sqlCounter: { statements: 0 } }
}

test('a read failing with a serialization failure is retried (3 attempts), then answers CONFLICT', async () => {
  const s = scope()
  let built = 0
  await assert.rejects(database.db.read(s, 'flaky', (sql) => { built++; return sql.unsafe(serializationFailure) }), { code: 'CONFLICT' })
  assert.equal(built, 3)
  assert.equal(s.sqlCounter.statements, 3)
})

test('a read that succeeds on its second attempt answers normally', async () => {
  let built = 0
  const rows = await database.db.read(scope(), 'flakyOnce', (sql) => ++built === 1 ? sql.unsafe(serializationFailure) : sql`select 1 as one`)
  assert.deepEqual([...rows], [{ one: 1 }])
  assert.equal(built, 2)
})

test('a write (query) and a whole transaction are retried after a conflict (3 attempts), then answer CONFLICT', async () => {
  let built = 0
  await assert.rejects(database.db.query(scope(), 'write', (sql) => { built++; return sql.unsafe(serializationFailure) }), { code: 'CONFLICT' })
  assert.equal(built, 3)
  let runs = 0
  await assert.rejects(database.db.transaction(scope(), 'tx', async (tx) => {
    runs++
    return tx.read(scope(), 'insideTx', (sql) => sql.unsafe(serializationFailure))
  }), { code: 'CONFLICT' })
  assert.equal(runs, 3, 'the whole transaction ran again, not the statement alone')
})

test('a transaction that conflicts once commits on its second run, with the first run rolled back', async () => {
  const [{ before }] = await database.db.sql`select count(*)::int as before from tags`
  let runs = 0
  const result = await database.db.transaction(scope(), 'txOnce', async (tx) => {
    runs++
    await tx.query(scope(), 'insert', (sql) => sql`insert into tags (name) values (${`retried-${runs}`})`)
    if (runs === 1) await tx.query(scope(), 'conflict', (sql) => sql.unsafe(serializationFailure))
    return runs
  })
  assert.equal(result, 2)
  const names = (await database.db.sql`select name from tags where name like 'retried-%' order by name`).map((row) => row.name)
  assert.deepEqual(names, ['retried-2'], 'only the second run is visible')
  const [{ after }] = await database.db.sql`select count(*)::int as after from tags`
  assert.equal(after, before + 1)
})

test('a write whose connection is lost is not retried: it may have been applied', async () => {
  let built = 0
  await assert.rejects(database.db.query(scope(), 'lost', (sql) => { built++; return sql`select pg_terminate_backend(pg_backend_pid())` }), { code: 'SERVICE_UNAVAILABLE' })
  assert.equal(built, 1)
  const [{ one }] = await database.db.sql`select 1 as one`
  assert.equal(one, 1, 'the pool replaced the lost connection')
})

test('no retry when the remaining budget cannot cover the wait', async () => {
  let built = 0
  await assert.rejects(database.db.read(scope(40), 'tight', (sql) => { built++; return sql.unsafe(serializationFailure) }))
  assert.equal(built, 1)
})
