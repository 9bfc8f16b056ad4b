/**
 * Every transaction the gateway begins ends before its connection goes back to the pool, even
 * when COMMIT itself fails. PostgreSQL answers a COMMIT that its statement_timeout interrupts
 * before the commit takes effect with 57014 and leaves the session in an aborted transaction
 * block (measured: 8 connections with statement_timeout = 1 ms committing on a loaded core,
 * one COMMIT in 64k failed so and the next statement on that connection got 25P02). CI saw
 * the consequence: a later createNote on that pooled connection answered 500 "current
 * transaction is aborted". That timing cannot be forced, so the test puts the session in the
 * same state the same way: the first COMMIT of each connection is replaced by a statement
 * that runs into a statement_timeout of 5 ms inside the transaction.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type pg from 'pg'
import { configWith } from '../../src/config.ts'
import { createPool, openPool } from '../../src/db/connect.ts'
import { unbudgetedScope, type Database } from '../../src/db/gateway.ts'
import { ApiError } from '../../src/errors.ts'
import { createTestDatabase, runAsAdmin, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
let pool: pg.Pool
let db: Database
const commitsReplaced: number[] = []

before(async () => {
  database = await createTestDatabase()
  // One connection, so the second transaction runs on the connection the first one used.
  const config = configWith({ dbPoolMax: 1, dbTimeoutMs: 20_000 })
  pool = createPool(database.url, config)
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>
  const wrapped = new WeakSet<pg.PoolClient>()
  // The gateway borrows with connect() (a promise); pool.query's callback form is not used here.
  pool.connect = (async () => {
    const client = await connect()
    if (!wrapped.has(client)) {
      wrapped.add(client)
      failFirstCommit(client)
    }
    return client
  }) as typeof pool.connect
  db = openPool(pool, config)
})
after(async () => {
  await db.close()
  await database.drop()
})

/** The first COMMIT on `client` fails with 57014 and leaves the block aborted, as PostgreSQL does. */
function failFirstCommit (client: pg.PoolClient): void {
  const query = client.query.bind(client) as (config: unknown) => Promise<pg.QueryResult>
  let armed = true
  client.query = (async (config: unknown) => {
    if (!armed || config !== 'commit') return query(config)
    armed = false
    const { processID } = client as unknown as { processID: number }
    commitsReplaced.push(processID)
    await query("select set_config('statement_timeout', '5', true)")
    return query('select pg_sleep(1)')
  }) as typeof client.query
}

const insertUserNamed = (tx: Database, title: string) =>
  tx.query(unbudgetedScope(), 'insertProbeUser', (sql) => sql`
    insert into users (email, name, password_hash) values (${`${title}@probe.test`}, ${title}, 'x')`)

test('a COMMIT that fails leaves no aborted transaction behind: the next transaction on that connection commits', async () => {
  await assert.rejects(
    db.transaction(unbudgetedScope(), 'first', (tx) => insertUserNamed(tx, 'first')),
    (error: unknown) => error instanceof ApiError && error.code === 'TIMEOUT')
  assert.equal(commitsReplaced.length, 1, 'the first COMMIT was the failing one')

  // Same connection (the pool has one): without a ROLLBACK after the failed COMMIT this answers
  // 25P02 "current transaction is aborted, commands ignored until end of transaction block".
  const [{ pid }] = await db.transaction(unbudgetedScope(), 'second', async (tx) => {
    await insertUserNamed(tx, 'second')
    return tx.query<{ pid: number }>(unbudgetedScope(), 'backendPid', (sql) => sql`select pg_backend_pid() as pid`)
  })
  assert.equal(pid, commitsReplaced[0], 'the second transaction ran on the connection whose COMMIT failed')

  const names = await runAsAdmin(database.url, "select name from users where name in ('first', 'second') order by name")
  assert.deepEqual(names.map((row) => row.name), ['second'], 'the failed COMMIT wrote nothing, the second did')
  const open = await runAsAdmin(database.url,
    "select state from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'")
  assert.deepEqual(open, [], 'no connection left in a transaction')
})
