/**
 * No hang, no leak: the test's own connection holds a lock, so the request's statement waits;
 * the request answers TIMEOUT from the database or GraphQL budget (not the HTTP last line),
 * the waiting statement is gone from pg_stat_activity right after, the pool has every
 * connection back, and a mutation that timed out wrote nothing. Budgets are small: HTTP 1500 /
 * GraphQL 1000 / DB 800. Which budget answered is told by the error's layer, not by the clock,
 * so a pause of the machine does not decide the test; the clock only shows nothing hung.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import pg from 'pg'
import { sqlOn } from '../../src/db/trusted-sql.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

const budgets = { httpTimeoutMs: 1500, graphqlTimeoutMs: 1000, dbTimeoutMs: 800, dbPoolMax: 4, cacheEnabled: false }
/** Far past every budget: an answer later than this hung. */
const HUNG_AFTER_MS = budgets.httpTimeoutMs + 3000

let t: TestApp
let locker: pg.Pool
let observer: pg.Pool
let alice: { id: string, token: string }

before(async () => {
  t = await startTestApp(budgets)
  locker = new pg.Pool({ connectionString: t.database.url, max: 1 })
  observer = new pg.Pool({ connectionString: t.database.url, max: 1 })
  alice = await t.signUp('Alice')
  await t.gql('mutation { createNote(input: { title: "first", visibility: PUBLIC }) { id } }', { token: alice.token })
})
after(async () => {
  await locker.end()
  await observer.end()
  await t.close()
})

/** Runs `work` while the locker holds `lockSql` in an open transaction. */
async function whileLocked<T> (lockSql: string, work: () => Promise<T>): Promise<T> {
  let release = (): void => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let locked = (): void => {}
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  const holder = (async () => {
    const client = await locker.connect()
    try {
      await client.query('begin')
      await client.query(lockSql)
      locked()
      await released
      await client.query('rollback')
    } finally {
      client.release()
    }
  })()
  await isLocked
  try {
    return await work()
  } finally {
    release()
    await holder
  }
}

async function waitingStatements (): Promise<number> {
  const [{ count }] = await sqlOn(observer)`
    select count(*)::int as count from pg_stat_activity
    where datname = current_database() and application_name = 'jotter' and wait_event_type = 'Lock'`
  return count
}

async function assertPoolWhole (): Promise<void> {
  // Every pooled connection must be free again: DB_POOL_MAX concurrent reads all succeed fast.
  const results = await Promise.all(Array.from({ length: budgets.dbPoolMax }, () => t.gql('{ notes { id } }')))
  for (const result of results) assert.equal(result.status, 200, JSON.stringify(result.body))
}

test('a read blocked by a table lock answers 504 TIMEOUT from its own budget, and leaves nothing behind', async () => {
  const result = await whileLocked('lock table notes in access exclusive mode', async () => {
    const started = performance.now()
    const answer = await t.gql('{ notes { id } }')
    const elapsed = performance.now() - started
    assert.ok(elapsed < HUNG_AFTER_MS, `answered after ${Math.round(elapsed)} ms`)
    // Right after the answer, still under the lock: the statement is not waiting any more.
    assert.equal(await waitingStatements(), 0, 'the waiting statement is gone from pg_stat_activity')
    return answer
  })
  assert.equal(result.status, 504)
  assert.equal(result.body.data, null)
  assert.equal(result.body.errors?.[0].extensions?.code, 'TIMEOUT')
  assert.ok(['graphql', 'database'].includes(result.body.errors?.[0].extensions?.layer as string), JSON.stringify(result.body))
  assert.doesNotMatch(JSON.stringify(result.body), /statement|cancel|postgres|57014/i, 'nothing internal leaks')
  await assertPoolWhole()
})

test('a mutation blocked by a row lock times out and writes nothing', async () => {
  const [{ count: before }] = await t.database.db.sql`select count(*)::int as count from notes`
  const result = await whileLocked(`select * from users where id = ${Number(alice.id)} for update`, async () => {
    // createNote inserts a note referencing the locked user: the foreign-key check waits.
    const started = performance.now()
    const answer = await t.gql('mutation { createNote(input: { title: "never", tags: ["x"] }) { id } }', { token: alice.token })
    assert.ok(performance.now() - started < HUNG_AFTER_MS)
    assert.equal(await waitingStatements(), 0)
    return answer
  })
  assert.equal(result.status, 504, JSON.stringify(result.body))
  assert.equal(result.body.errors?.[0].extensions?.code, 'TIMEOUT')
  assert.ok(['graphql', 'database'].includes(result.body.errors?.[0].extensions?.layer as string), JSON.stringify(result.body))
  const [{ count: afterwards }] = await t.database.db.sql`select count(*)::int as count from notes`
  assert.equal(afterwards, before, 'nothing was written')
  const [{ tags }] = await t.database.db.sql`select count(*)::int as tags from tags where name = 'x'`
  assert.equal(tags, 0)
  await assertPoolWhole()
})

test('without a lock the same requests succeed (the other side of the limit)', async () => {
  const read = await t.gql('{ notes { id } }')
  assert.equal(read.status, 200)
  const write = await t.gql('mutation { createNote(input: { title: "now" }) { id } }', { token: alice.token })
  assert.equal(write.status, 200, JSON.stringify(write.body))
})

test('fields that finished keep their data; only the blocked field carries TIMEOUT', async () => {
  // `me` reads users (not locked); `notes` waits on the locked table.
  const result = await whileLocked('lock table notes in access exclusive mode', () =>
    t.gql('{ me { name } notes { id } }', { token: alice.token }))
  // notes is non-null, so its error nulls the whole data: assert on a nullable root instead.
  assert.equal(result.body.errors?.[0].extensions?.code, 'TIMEOUT')
  const partial = await whileLocked('lock table notes in access exclusive mode', () =>
    t.gql('{ me { name } note(id: "1") { id } }', { token: alice.token }))
  assert.equal(partial.status, 200, 'some data: 200')
  assert.deepEqual(partial.body.data, { me: { name: 'Alice' }, note: null })
  assert.deepEqual(partial.body.errors?.map((error) => [error.path, error.extensions?.code]), [[['note'], 'TIMEOUT']])
})

test('timeouts are counted by layer in /metrics', async () => {
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' })
  const line = metrics.body.split('\n').find((row) => row.startsWith('jotter_timeouts_total{'))
  assert.ok(line, 'jotter_timeouts_total is exported')
  assert.match(metrics.body, /jotter_timeouts_total\{layer="(database|graphql)"\} [1-9]/)
})

test('a client that disconnects aborts its request: the waiting statement is cancelled at once', async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = t.app.server.address() as { port: number }
  await whileLocked('lock table notes in access exclusive mode', async () => {
    const client = new AbortController()
    const request = fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ notes { id } }' }),
      signal: client.signal
    }).catch((error: Error) => error)
    // The statement is waiting for the lock, well inside every budget.
    for (let i = 0; i < 100 && await waitingStatements() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(await waitingStatements(), 1, 'the request is waiting on the lock')
    const hungUpAt = performance.now()
    client.abort()
    await request
    let waiting = 1
    while (waiting > 0 && performance.now() - hungUpAt < 300) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      waiting = await waitingStatements()
    }
    // Far sooner than the 800 ms statement budget would have ended it.
    assert.equal(waiting, 0, 'the statement was cancelled when the client went away')
  })
  await assertPoolWhole()
})
