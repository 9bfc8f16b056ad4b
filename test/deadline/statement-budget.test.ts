/**
 * The gateway hands PostgreSQL the smaller of DB_TIMEOUT_MS and what the request has left.
 * A deadline whose signal never fires isolates PostgreSQL's own enforcement (statement_timeout)
 * from the cancel-on-abort path, which the lock-wait test covers.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Database, type QueryScope } from '../../src/db/gateway.ts'
import { createPool, openPool } from '../../src/db/connect.ts'
import { noDeadline, type Deadline } from '../../src/deadline/deadline.ts'
import { configWith } from '../../src/config.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
let db: Database

before(async () => {
  database = await createTestDatabase()
  db = (() => { const config = configWith({ dbPoolMax: 2, dbTimeoutMs: 10_000 }); return openPool(createPool(database.url, config), config) })()
})
after(async () => {
  await db.close()
  await database.drop()
})

/** A budget of `ms` from now whose abort signal never fires: only PostgreSQL can stop a statement. */
function silentBudget (ms: number): QueryScope {
  const expiresAt = performance.now() + ms
  const remainingBudgetMs = (): number => Math.max(0, expiresAt - performance.now())
  const deadline: Deadline = {
    ...noDeadline,
    expiresAt,
    layer: 'graphql',
    remainingBudgetMs,
    throwIfExpired: (layer) => { if (remainingBudgetMs() <= 0) throw noDeadline.timeoutError(layer) }
  }
  return { deadline, sqlCounter: { statements: 0 } }
}

async function timeOf (work: Promise<unknown>): Promise<{ ms: number, error: unknown }> {
  const started = performance.now()
  try {
    await work
    return { ms: performance.now() - started, error: undefined }
  } catch (error) {
    return { ms: performance.now() - started, error }
  }
}

test('a statement gets only what is left of the request budget, enforced by PostgreSQL', async () => {
  const scope = silentBudget(300)
  const { ms, error } = await timeOf(db.query(scope, 'sleep', (sql) => sql`select pg_sleep(30)`))
  assert.equal((error as { code?: string }).code, 'TIMEOUT')
  // Cut far short of the 10 s ceiling (how far past 300 ms is the machine's say).
  assert.ok(ms < 5000, `stopped after ${Math.round(ms)} ms`)
  assert.equal(scope.sqlCounter.statements, 1, 'the budget SET is not counted as a statement of its own')
})

test('with more left than DB_TIMEOUT_MS, the connection ceiling (10 s) applies, and a short statement is untouched', async () => {
  const quick = await db.query(silentBudget(20_000), 'quick', (sql) => sql`select current_setting('statement_timeout') as timeout`)
  assert.equal(quick[0].timeout, '10s', 'no per-statement SET when the ceiling is the smaller bound')
  const late = await db.query(silentBudget(1000), 'late', (sql) => sql`select current_setting('statement_timeout') as timeout`)
  const left = /^(\d+)ms$/.exec(String(late[0].timeout))
  assert.ok(left !== null && Number(left[1]) > 0 && Number(left[1]) <= 1000, `SET LOCAL to what is left: ${late[0].timeout}`)
  const after = await db.query(silentBudget(20_000), 'after', (sql) => sql`select current_setting('statement_timeout') as timeout`)
  assert.equal(after[0].timeout, '10s', 'the per-statement SET did not leak onto the pooled connection')
})

test('a transaction late in the budget is bounded by what is left', async () => {
  const scope = silentBudget(400)
  const { ms, error } = await timeOf(db.transaction(scope, 'slow', (tx) => tx.query(scope, 'sleep', (sql) => sql`select pg_sleep(30)`)))
  assert.equal((error as { code?: string }).code, 'TIMEOUT')
  assert.ok(ms < 5000, `stopped after ${Math.round(ms)} ms`)
})

test('an expired budget runs no statement at all', async () => {
  const scope = silentBudget(0)
  await assert.rejects(db.query(scope, 'never', (sql) => sql`select 1`), { code: 'TIMEOUT' })
  assert.equal(scope.sqlCounter.statements, 0)
})
