/**
 * Writes under lock contention with deadlines running out in the middle of transactions: a
 * session outside the app keeps taking locks the writers need (note_tags, a user row, a
 * note row) for longer than the writers' budget, while waves of createNote / updateNote /
 * updateUser run against it. Afterwards nothing may be left behind: no pooled connection idle
 * in transaction (or in a transaction at all), the pool whole, a write answered at once, and
 * every answer that succeeded wrote what it says (docs/database-driver.md: why the driver
 * matters here).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import pg from 'pg'
import { sqlOn } from '../../src/db/trusted-sql.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

const budgets = { httpTimeoutMs: 1500, graphqlTimeoutMs: 500, dbTimeoutMs: 400, dbPoolMax: 4, cacheEnabled: false }

let t: TestApp
let locker: pg.Pool
let users: Array<{ id: string, token: string }>
let noteIds: string[]

before(async () => {
  t = await startTestApp(budgets)
  locker = new pg.Pool({ connectionString: t.database.url, max: 3 })
  locker.on('error', () => {})
  users = [await t.signUp('Writer A'), await t.signUp('Writer B'), await t.signUp('Writer C')]
  noteIds = []
  for (const user of users) {
    const created = await t.gql('mutation { createNote(input: { title: "seed", tags: ["alpha"] }) { id } }', { token: user.token })
    noteIds.push(created.body.data.createNote.id)
  }
})
after(async () => {
  await locker.end()
  await t.close()
})

/** Holds `lockSql` in an open transaction of its own for `ms`, then rolls back. */
async function holdLock (lockSql: string, ms: number): Promise<void> {
  const client = await locker.connect()
  try {
    await client.query('begin')
    await client.query(lockSql)
    await new Promise((resolve) => setTimeout(resolve, ms))
    await client.query('rollback')
  } finally {
    client.release()
  }
}

const TAGS = ['alpha', 'beta', 'gamma', 'delta']

function write (i: number): Promise<{ kind: string, title: string, status: number, body: any }> {
  const user = users[i % users.length]
  const title = `contended ${i}`
  if (i % 3 === 0) {
    const tags = [TAGS[i % 4], TAGS[(i + 1) % 4], TAGS[(i + 3) % 4]].slice(0, 2 + (i % 2))
    return t.gql('mutation ($title: String!, $tags: [String!]) { createNote(input: { title: $title, tags: $tags }) { id title tags { name } } }',
      { token: user.token, variables: { title, tags } }).then((result) => ({ kind: 'createNote', title, ...result }))
  }
  if (i % 3 === 1) {
    return t.gql(`mutation ($id: ID!, $title: String!, $tags: [String!]) { updateNote(id: $id, input: { title: $title, tags: $tags, visibility: ${i % 2 === 0 ? 'PUBLIC' : 'PRIVATE'} }) { id title } }`,
      { token: user.token, variables: { id: noteIds[i % users.length], title, tags: [TAGS[(i + 2) % 4], TAGS[i % 4]] } }).then((result) => ({ kind: 'updateNote', title, ...result }))
  }
  return t.gql('mutation ($name: String!) { updateUser(input: { name: $name }) { name } }', { token: user.token, variables: { name: title } })
    .then((result) => ({ kind: 'updateUser', title, ...result }))
}

test('deadlines that expire mid-transaction under lock contention leave no transaction, no lost connection and no wrong answer', async () => {
  const locks = [
    'lock table note_tags in exclusive mode',
    `select * from users where id = ${Number(users[0].id)} for update`,
    `select * from notes where id = ${Number(noteIds[1])} for update`,
    'lock table tags in exclusive mode'
  ]
  const outcomes = new Map<string, number>()
  let writes = 0
  for (let wave = 0; wave < 8; wave++) {
    // Longer than the GraphQL budget: writers that need the lock run out of time inside
    // their transaction, after BEGIN and their first statements.
    const holder = holdLock(locks[wave % locks.length], 300 + (wave % 3) * 200)
    const answers = await Promise.all(Array.from({ length: 24 }, (_, k) => write(wave * 24 + k)))
    await holder
    for (const answer of answers) {
      writes++
      const code = answer.body.errors?.[0]?.extensions?.code ?? 'ok'
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1)
      assert.ok(['ok', 'TIMEOUT', 'CONFLICT'].includes(code), `${answer.kind}: ${JSON.stringify(answer.body)}`)
      if (code !== 'ok') continue
      // The answer is the write that was asked for, not another statement's rows.
      if (answer.kind === 'createNote') assert.equal(answer.body.data.createNote.title, answer.title)
      if (answer.kind === 'updateNote') assert.equal(answer.body.data.updateNote.title, answer.title)
      if (answer.kind === 'updateUser') assert.equal(answer.body.data.updateUser.name, answer.title)
    }
  }
  assert.ok((outcomes.get('TIMEOUT') ?? 0) > 0, `the contention made some deadlines expire: ${JSON.stringify([...outcomes])}`)
  assert.ok((outcomes.get('ok') ?? 0) > 0, `some writes went through: ${JSON.stringify([...outcomes])}`)
  assert.equal(writes, 8 * 24)

  // Nothing left behind. A destroyed connection's backend may need PostgreSQL's client check
  // interval to notice; a transaction left open on purpose would stay for the idle timeout.
  const observer = sqlOn(locker)
  let inTransaction: Array<Record<string, unknown>> = []
  for (let i = 0; i < 20; i++) {
    inTransaction = await observer`select pid, state, query from pg_stat_activity
      where datname = current_database() and application_name = 'jotter' and (state like 'idle in transaction%' or xact_start is not null)`
    if (inTransaction.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.deepEqual(inTransaction, [], 'no pooled connection is left in a transaction')
  const { pool } = t.database.db
  assert.ok(pool.totalCount <= budgets.dbPoolMax, `pool within its bound: ${pool.totalCount}`)
  assert.equal(pool.waitingCount, 0, 'nobody waits for a connection')
  assert.equal(t.database.db.statementsInFlight(), 0)

  // The pool is whole: as many concurrent writes as it has connections all succeed within
  // their (short) budgets, and each wrote its row.
  const final = await Promise.all(Array.from({ length: budgets.dbPoolMax }, (_, k) =>
    t.gql('mutation ($title: String!) { createNote(input: { title: $title, tags: ["alpha", "beta"] }) { title } }',
      { token: users[k % users.length].token, variables: { title: `after ${k}` } })))
  for (const [k, result] of final.entries()) assert.deepEqual(result.body, { data: { createNote: { title: `after ${k}` } } })
  const [{ count }] = await t.database.db.sql`select count(*)::int as count from notes where title like 'after %'`
  assert.equal(count, budgets.dbPoolMax)
})

test('without contention the same writes all succeed (the other side)', async () => {
  // As many at once as the pool has connections: none waits for another, so a slow moment of
  // the machine cannot spend a short budget in the pool's queue.
  for (let wave = 0; wave < 24 / budgets.dbPoolMax; wave++) {
    const answers = await Promise.all(Array.from({ length: budgets.dbPoolMax }, (_, k) => write(1000 + wave * budgets.dbPoolMax + k)))
    for (const answer of answers) assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body))
  }
})
