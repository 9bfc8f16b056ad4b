/**
 * What the per-statement budget costs: N primary-key reads with the connection's ceiling only
 * (the common case) vs with the exact budget sent as SET LOCAL in a pipelined transaction (late
 * in a request). Run: TEST_DATABASE_URL=... node --import tsx test/deadline/statement-budget.bench.ts
 * Prints the ratio; judge by it, not by absolute times (shared, noisy machine).
 */
import { createPool, openPool } from '../../src/db/connect.ts'
import { type QueryScope } from '../../src/db/gateway.ts'
import { noDeadline, type Deadline } from '../../src/deadline/deadline.ts'
import { configWith } from '../../src/config.ts'
import { createTestDatabase } from '../helpers/database.ts'

const N = 2000
const database = await createTestDatabase()
const db = (() => { const config = configWith({ dbPoolMax: 1, dbTimeoutMs: 20_000 }); return openPool(createPool(database.url, config), config) })()

function scopeWith (remainingMs: number): QueryScope {
  const deadline: Deadline = { ...noDeadline, remainingBudgetMs: () => remainingMs }
  return { deadline, sqlCounter: { statements: 0 } }
}

async function run (label: string, scope: QueryScope): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < N; i++) await db.query(scope, 'pk', (sql) => sql`select id from users where id = ${i}`)
  const perStatementUs = (performance.now() - started) * 1000 / N
  console.log(`${label}: ${perStatementUs.toFixed(0)} µs per read`)
  return perStatementUs
}

await run('warm-up', scopeWith(60_000))
const plain = await run('ceiling only (remaining > DB_TIMEOUT_MS)', scopeWith(60_000))
const budgeted = await run('SET LOCAL per statement (remaining < DB_TIMEOUT_MS)', scopeWith(5_000))
console.log(`ratio: ${(budgeted / plain).toFixed(2)}×`)
await db.close()
await database.drop()
