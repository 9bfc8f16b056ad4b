/**
 * Transient failures: reads are retried with backoff within the budget, writes never.
 * A serialization failure (40001) is raised on demand by the statement itself.
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

test('a read failing with a serialization failure is retried (3 attempts), then answers 503', async () => {
  const s = scope()
  let built = 0
  await assert.rejects(database.db.read(s, 'flaky', (sql) => { built++; return sql.unsafe(serializationFailure) }), { code: 'SERVICE_UNAVAILABLE' })
  assert.equal(built, 3)
  assert.equal(s.sqlCounter.statements, 3)
})

test('a read that succeeds on its second attempt answers normally', async () => {
  let built = 0
  const rows = await database.db.read(scope(), 'flakyOnce', (sql) => ++built === 1 ? sql.unsafe(serializationFailure) : sql`select 1 as one`)
  assert.deepEqual([...rows], [{ one: 1 }])
  assert.equal(built, 2)
})

test('a write (query) and a transaction are never retried', async () => {
  let built = 0
  await assert.rejects(database.db.query(scope(), 'write', (sql) => { built++; return sql.unsafe(serializationFailure) }), { code: 'SERVICE_UNAVAILABLE' })
  assert.equal(built, 1)
  let runs = 0
  await assert.rejects(database.db.transaction(scope(), 'tx', async (tx) => {
    runs++
    return tx.read(scope(), 'insideTx', (sql) => sql.unsafe(serializationFailure))
  }), { code: 'SERVICE_UNAVAILABLE' })
  assert.equal(runs, 1)
})

test('no retry when the remaining budget cannot cover the wait', async () => {
  let built = 0
  await assert.rejects(database.db.read(scope(40), 'tight', (sql) => { built++; return sql.unsafe(serializationFailure) }))
  assert.equal(built, 1)
})
