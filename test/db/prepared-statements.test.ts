/**
 * DB_PREPARED_STATEMENTS: the gateway names each statement text once per process, so every
 * pooled connection prepares it once (PostgreSQL's pg_prepared_statements shows it), and names
 * nothing when it is off (behind PgBouncer's transaction pooling). A connection that is lost
 * takes its prepared statements with it: the next one prepares them again.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { configWith } from '../../src/config.ts'
import { createPool, openPool } from '../../src/db/connect.ts'
import { unbudgetedScope, type Database } from '../../src/db/gateway.ts'
import { createStatementNamer } from '../../src/db/statement-names.ts'
import { createTestDatabase, runAsAdmin, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
const opened: Database[] = []

before(async () => { database = await createTestDatabase() })
after(async () => {
  for (const db of opened) await db.close()
  await database.drop()
})

/** A one-connection gateway, so every statement runs on the session we then look at. */
function oneConnection (dbPreparedStatements: boolean): Database {
  const config = configWith({ dbPoolMax: 1, dbTimeoutMs: 20_000, dbPreparedStatements })
  const db = openPool(createPool(database.url, config), config)
  opened.push(db)
  return db
}

const userById = (db: Database, id: string): Promise<unknown[]> =>
  db.read(unbudgetedScope(), 'userById', (sql) => sql`select id, name from users where id = ${id}`)

const preparedOnSession = async (db: Database): Promise<Array<{ name: string, statement: string }>> =>
  db.read(unbudgetedScope(), 'preparedStatements', (sql) => sql`select name, statement from pg_prepared_statements order by name`)

test('the namer gives one name per text, the same every time, and none past its bound', () => {
  const name = createStatementNamer(2)
  const first = name('select 1')
  assert.equal(first, 'jotter_1')
  assert.equal(name('select 1'), first)
  assert.equal(name('select 2'), 'jotter_2')
  assert.equal(name('select 3'), undefined, 'a third text past a bound of 2 runs unnamed')
  assert.equal(name('select 1'), first, 'texts named before the bound keep their names')
})

test('with prepared statements on, a statement is prepared once on its connection and reused', async () => {
  const db = oneConnection(true)
  await userById(db, '1')
  await userById(db, '2')
  const prepared = await preparedOnSession(db)
  const matching = prepared.filter((row) => row.statement.includes('from users where id = $1'))
  assert.equal(matching.length, 1, `one prepared statement for the text, got ${JSON.stringify(prepared)}`)
  assert.match(matching[0].name, /^jotter_\d+$/)
})

test('with prepared statements off, nothing is prepared on the session', async () => {
  const db = oneConnection(false)
  await userById(db, '1')
  await userById(db, '2')
  assert.deepEqual(await preparedOnSession(db), [])
})

test('a connection that is terminated takes its statements with it; the next one prepares them again', async () => {
  const db = oneConnection(true)
  const [{ pid }] = await db.read<{ pid: number }>(unbudgetedScope(), 'backendPid', (sql) => sql`select pg_backend_pid() as pid`)
  await userById(db, '1')
  await runAsAdmin(database.url, 'select pg_terminate_backend($1)', [pid])
  // The pool may hand out the dead connection once: that statement fails (the read retries it).
  const rows = await userById(db, '1').catch(() => userById(db, '1'))
  assert.ok(Array.isArray(rows))
  const [{ pid: newPid }] = await db.read<{ pid: number }>(unbudgetedScope(), 'backendPid', (sql) => sql`select pg_backend_pid() as pid`)
  assert.notEqual(newPid, pid)
  assert.equal((await preparedOnSession(db)).filter((row) => row.statement.includes('from users where id = $1')).length, 1)
})
