/**
 * A request whose statement is still queued for a pooled connection when its budget runs out
 * answers TIMEOUT at its budget (not at the HTTP budget's last line), and a mutation queued
 * that way writes nothing once a connection frees up. The test takes the app's only pooled
 * connection itself (`reserve()` on the shared pool). Budgets: HTTP 1500 / GraphQL 1000 /
 * DB 800. Which budget answered is told by the error's layer, not by the clock, so a pause of
 * the machine does not decide the test; the clock only shows nothing hung.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

const budgets = { httpTimeoutMs: 1500, graphqlTimeoutMs: 1000, dbTimeoutMs: 800, dbPoolMax: 1, cacheEnabled: false }
/** Far past every budget: an answer later than this hung. */
const HUNG_AFTER_MS = budgets.httpTimeoutMs + 3000

let database: TestDatabase
let t: TestApp
let alice: { id: string, token: string }

before(async () => {
  // The pool is the test database's: one connection, shared by the app and the test.
  database = await createTestDatabase({ poolMax: budgets.dbPoolMax, dbTimeoutMs: budgets.dbTimeoutMs })
  t = await startTestApp(budgets, { database })
  alice = await t.signUp('Alice')
})
after(async () => {
  await t.close()
  await database.drop()
})

/** Runs `work` while the test holds the app's only pooled connection. */
async function whilePoolTaken<T> (work: () => Promise<T>): Promise<T> {
  const reserved = await t.database.db.pool.connect()
  try {
    return await work()
  } finally {
    reserved.release()
  }
}

async function noteCount (): Promise<number> {
  const [{ count }] = await t.database.db.sql`select count(*)::int as count from notes`
  return count
}

test('a mutation queued for a connection past its budget answers TIMEOUT from its GraphQL budget and never writes', async () => {
  const before = await noteCount()
  const result = await whilePoolTaken(async () => {
    const started = performance.now()
    const answer = await t.gql('mutation { createNote(input: { title: "queued too long" }) { id } }', { token: alice.token })
    const elapsed = performance.now() - started
    assert.ok(elapsed < HUNG_AFTER_MS, `answered after ${Math.round(elapsed)} ms`)
    return answer
  })
  assert.equal(result.status, 504, JSON.stringify(result.body))
  assert.equal(result.body.errors?.[0].extensions?.code, 'TIMEOUT')
  assert.equal(result.body.errors?.[0].extensions?.layer, 'graphql', 'the GraphQL budget answered, not the HTTP last line')
  // The queued transaction gets the connection now, finds its budget spent and runs nothing.
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(await noteCount(), before, 'nothing was written')
})

test('a read queued for a connection past its budget answers TIMEOUT from its GraphQL budget', async () => {
  const result = await whilePoolTaken(async () => {
    const started = performance.now()
    const answer = await t.gql('{ notes { id } }', { token: alice.token })
    const elapsed = performance.now() - started
    assert.ok(elapsed < HUNG_AFTER_MS, `answered after ${Math.round(elapsed)} ms`)
    return answer
  })
  assert.equal(result.status, 504, JSON.stringify(result.body))
  assert.equal(result.body.errors?.[0].extensions?.code, 'TIMEOUT')
  assert.equal(result.body.errors?.[0].extensions?.layer, 'graphql', 'the GraphQL budget answered, not the HTTP last line')
})

test('with the connection free the same requests succeed (the other side)', async () => {
  const before = await noteCount()
  const write = await t.gql('mutation { createNote(input: { title: "in time" }) { id } }', { token: alice.token })
  assert.equal(write.status, 200, JSON.stringify(write.body))
  assert.equal(await noteCount(), before + 1)
  const read = await t.gql('{ notes { id } }', { token: alice.token })
  assert.equal(read.status, 200, JSON.stringify(read.body))
})
