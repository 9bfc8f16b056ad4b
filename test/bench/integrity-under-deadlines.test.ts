/**
 * `npm run check:integrity` as part of `npm test`: the real server on the test PostgreSQL with
 * budgets of tens of ms (HTTP 60 / GraphQL 40 / DB 1) and both caches off, 15 s of the write mix
 * at 250 req/s, every read answer checked against the database. It must see deadlines expire
 * (in the database too), verify more than a few hundred answers, find none wrong, leave no
 * transaction open, the pool whole and the database writable by a server with the default
 * budgets, and leave nothing behind. That the verifier catches a
 * wrong answer is shown on the run's own answers (two of them swapped) and, case by case, in
 * read-verifier.test.ts; the in-load idle-transaction watch is tested on both sides first.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { watchIdleTransactions } from '../../bench/load/idle-transactions.ts'
import { verifyReads } from '../../bench/load/read-verifier.ts'
import type { RecordedRead } from '../../bench/load/response-ledger.ts'
import { formatIntegrityReport, runIntegrityCheck } from '../../scripts/integrity-check.ts'

const serverUrl = process.env.TEST_DATABASE_URL
if (serverUrl === undefined) throw new Error('TEST_DATABASE_URL must be set (npm test sets it)')

describe('idle-in-transaction watch during a load', () => {
  const name = `jotter_idlewatch_${process.pid}_${randomBytes(3).toString('hex')}`
  let databaseUrl: string
  before(async () => {
    await adminQuery(`create database "${name}"`, [])
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    databaseUrl = url.toString()
  })
  after(async () => { await adminQuery(`drop database if exists "${name}" with (force)`, []) })

  test('sees a transaction idle for longer than minIdleMs, not one that pauses less between its statements', async () => {
    const leaked = new pg.Client({ connectionString: databaseUrl })
    const busy = new pg.Client({ connectionString: databaseUrl })
    await leaked.connect()
    await busy.connect()
    try {
      const watch = await watchIdleTransactions({ adminUrl: databaseUrl, database: name, minIdleMs: 1200, intervalMs: 50 })
      await leaked.query('begin')
      await leaked.query('select 1 as leaked')
      // The sound one: statements 50 ms apart for 2 s, never idle for 1.2 s (only a pause of
      // this process longer than that could make it look leaked).
      await busy.query('begin')
      for (let index = 0; index < 40; index++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        await busy.query('select 1 as busy')
      }
      await busy.query('commit')
      const seen = await watch.stop()
      assert.deepEqual(seen.map((entry) => entry.lastQuery), ['select 1 as leaked'])
      assert.ok(seen[0].idleMs > 1200, `idle ${seen[0].idleMs} ms`)
      await leaked.query('rollback')
    } finally {
      await leaked.end()
      await busy.end()
    }
  })
})

describe('check:integrity', () => {
  test('250 req/s of the write mix for 15 s with deadlines expiring: every answer agrees with the database, nothing leaked, nothing left behind', { timeout: 120_000 }, async () => {
    const report = await runIntegrityCheck({ databaseUrl: serverUrl, users: 60, notesPerUser: 10, rate: 250, durationSeconds: 15, log: () => {} })
    const text = formatIntegrityReport(report)

    // Whatever the verdict, everything it started is gone.
    assert.equal(report.started.serverPids.length, 3, text)
    for (const pid of report.started.serverPids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `server ${pid} is gone`)
    const { rows } = await adminQuery('select count(*)::int as count from pg_database where datname = $1', [report.started.database])
    assert.equal(rows[0].count, 0, 'the throwaway database is dropped')

    assert.equal(report.load?.requests.sent, 3750, text)
    // Deadlines really expired, in the database too (statements cancelled by PostgreSQL).
    assert.ok(report.timeouts.count >= 10, `TIMEOUT answers: ${report.timeouts.count}\n${text}`)
    assert.ok((report.timeouts.byLayer.database ?? 0) >= 1, `database-layer timeouts: ${JSON.stringify(report.timeouts.byLayer)}\n${text}`)
    // Many answers of every kind were really checked.
    assert.ok(report.reads !== null && report.reads.verified >= 500, text)
    for (const operation of ['noteDetail', 'userNotes', 'userList']) {
      assert.ok(report.reads.byOperation[operation]?.verified >= 100, `${operation} verified: ${JSON.stringify(report.reads.byOperation[operation])}`)
    }
    assert.equal(report.reads.mismatches, 0, text)
    assert.deepEqual(report.writeMismatches, [], text)
    assert.deepEqual(report.idleDuringLoad, [], text)
    assert.deepEqual(report.idleAfterLoad, [], text)
    assert.deepEqual(report.poolAfterLoad, { open: 0, waiting: 0 }, text)
    // Under the load's 1-ms statement budget a write may time out; it may not hang or fail otherwise.
    assert.equal(report.burst.size, 10, text)
    assert.equal(report.burst.succeeded + report.burst.timedOut, 10, text)
    assert.equal(report.sessionsAfterStop, 0, text)
    // Under the default budgets, on the database the load left, every write succeeds.
    assert.equal(report.burstAfter.succeeded, 10, text)
    assert.equal(report.probe.ok, true, text)
    assert.deepEqual(report.problems, [], text)
    assert.equal(report.passed, true, text)

    // The same verifier on the run's own answers, two of each kind swapped between requests
    // (what rows of another statement look like): every swapped answer is caught.
    const { reads, truth } = report.evidence!
    for (const operation of ['noteDetail', 'userNotes', 'userList']) {
      const [first, second] = twoDifferentAnswers(reads, operation)
      const swapped = verifyReads([{ ...first, responseBody: second.responseBody }, { ...second, responseBody: first.responseBody }], truth)
      assert.equal(swapped.mismatches, 2, `${operation}: ${JSON.stringify(swapped.examples)}`)
    }
  })
})

// Helpers:

/** Two successful answers of `operation` to different questions, with different non-null data. */
function twoDifferentAnswers (reads: readonly RecordedRead[], operation: string): [RecordedRead, RecordedRead] {
  const answered = reads.filter((read) => read.operation === operation && read.errorType === null && !/^\{"data":\{"\w+":null\}\}$/.test(read.responseBody))
  const first = answered[0]
  const second = answered.find((read) => read.requestBody !== first.requestBody && read.responseBody !== first.responseBody)
  assert.ok(first !== undefined && second !== undefined, `two different ${operation} answers`)
  return [first, second]
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
