/**
 * `npm run check:write-mix` as part of `npm test`: the real server on the test PostgreSQL,
 * seeded through the API, under the write mix at 300 req/s. It must see no failed request, no
 * connection left idle in transaction and a prompt write afterwards, and leave nothing behind.
 * The detector it relies on is tested on both sides first.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { describeIdleTransactions, findIdleTransactions } from '../../bench/load/idle-transactions.ts'
import { formatWriteMixReport, runWriteMixCheck } from '../../scripts/write-mix-check.ts'

const serverUrl = process.env.TEST_DATABASE_URL
if (serverUrl === undefined) throw new Error('TEST_DATABASE_URL must be set (npm test sets it)')

describe('idle-in-transaction detector', () => {
  const name = `jotter_idle_${process.pid}_${randomBytes(3).toString('hex')}`
  let databaseUrl: string
  before(async () => {
    await admin(`create database "${name}"`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    databaseUrl = url.toString()
  })
  after(async () => { await admin(`drop database if exists "${name}" with (force)`) })

  test('finds a connection left inside a transaction (plain and aborted), and none once it ends', async () => {
    const leaked = new pg.Client({ connectionString: databaseUrl })
    const aborted = new pg.Client({ connectionString: databaseUrl })
    await leaked.connect()
    await aborted.connect()
    try {
      assert.deepEqual(await findIdleTransactions({ adminUrl: databaseUrl, database: name, settleMs: 0 }), [])
      await leaked.query('begin')
      await aborted.query('begin')
      await assert.rejects(aborted.query('select 1/0'))
      const found = await findIdleTransactions({ adminUrl: databaseUrl, database: name, settleMs: 300 })
      assert.deepEqual(found.map((entry) => entry.state).sort(), ['idle in transaction', 'idle in transaction (aborted)'])
      assert.match(describeIdleTransactions(found), /^2 idle in transaction \(1 aborted; the oldest for [\d.]+ s\), last statements: /)
      await leaked.query('rollback')
      await aborted.query('rollback')
      assert.deepEqual(await findIdleTransactions({ adminUrl: databaseUrl, database: name, settleMs: 300 }), [])
    } finally {
      await leaked.end()
      await aborted.end()
    }
  })

  test('waits out a transaction that is only between two statements', async () => {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      await client.query('begin')
      const commitSoon = setTimeout(() => { client.query('commit').catch(() => {}) }, 300)
      const found = await findIdleTransactions({ adminUrl: databaseUrl, database: name, settleMs: 3000 })
      clearTimeout(commitSoon)
      assert.deepEqual(found, [])
    } finally {
      await client.end()
    }
  })
})

describe('check:write-mix', () => {
  test('300 req/s of the write mix after seeding 100 × 10 through the API: no failure, no leaked transaction, nothing left behind', { timeout: 90_000 }, async () => {
    const report = await runWriteMixCheck({ databaseUrl: serverUrl, users: 100, notesPerUser: 10, rate: 300, durationSeconds: 10, log: () => {} })
    const text = formatWriteMixReport(report)

    // Whatever the verdict, everything it started is gone.
    assert.ok(report.started.serverPid !== null, text)
    assert.throws(() => process.kill(report.started.serverPid!, 0), /ESRCH/, 'the server process is gone')
    const { rows } = await adminQuery('select count(*)::int as count from pg_database where datname = $1', [report.started.database])
    assert.equal(rows[0].count, 0, 'the throwaway database is dropped')

    assert.equal(report.seed.createdNotes, 1000, text)
    assert.ok(report.load !== null && report.load.requests.sent === 3000, text)
    assert.equal(report.passed, true, text)
    assert.deepEqual(report.problems, [])
  })
})

// Helpers:

async function admin (text: string): Promise<void> {
  await adminQuery(text, [])
}

async function adminQuery (text: string, values: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}
