/**
 * A writer waits for its own commits' notifications (no marker query): the waiters alone, the
 * bus on a real PostgreSQL (a write's transaction id comes back in its notification), and a
 * mutation through the front door, which sends no marker and still reads its own write.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pino from 'pino'
import { createCommitWaiters } from '../../src/changes/commit-waiters.ts'
import { changeOf } from '../../src/changes/database-changes.ts'
import { createInvalidationBus } from '../../src/changes/invalidation-bus.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

describe('commit waiters (unit)', () => {
  const settled = async (promise: Promise<void>, withinMs: number): Promise<boolean> =>
    Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), withinMs))])

  test('heard before or after the wait; several ids wait for all of them', async () => {
    const commits = createCommitWaiters()
    commits.heard('1')
    assert.equal(await settled(commits.wait(['1'], 10_000), 50), true, 'heard before: at once')
    const both = commits.wait(['2', '3', '3'], 10_000)
    commits.heard('2')
    assert.equal(await settled(both, 20), false, 'one of two heard')
    commits.heard('3')
    assert.equal(await settled(both, 50), true)
    assert.equal(commits.waiting, 0)
  })

  test('a wait ends at its timeout and leaves no waiter behind; releaseAll ends every wait', async () => {
    const commits = createCommitWaiters()
    const started = performance.now()
    await commits.wait(['never'], 30)
    assert.ok(performance.now() - started >= 25)
    assert.equal(commits.waiting, 0)
    const pending = commits.wait(['a', 'b'], 10_000)
    commits.releaseAll()
    assert.equal(await settled(pending, 50), true)
    assert.equal(commits.waiting, 0)
  })

  test('only the last ids heard are remembered', async () => {
    const commits = createCommitWaiters(2)
    for (const id of ['a', 'b', 'c']) commits.heard(id)
    assert.equal(await settled(commits.wait(['c'], 10_000), 50), true)
    assert.equal(await settled(commits.wait(['a'], 30), 20), false, 'forgotten: waits')
  })

  test('a notification names its transaction; a payload without one has none', () => {
    assert.equal(changeOf('{"u":["7"],"s":1,"x":"1234"}').commit, '1234')
    assert.deepEqual(changeOf('{"all":true,"x":"99"}'), { tags: 'all', madeAtMs: undefined, commit: '99' })
    assert.equal(changeOf('{"u":["7"]}').commit, undefined)
    assert.deepEqual(changeOf('null'), { tags: 'all', madeAtMs: undefined })
  })
})

describe('awaitCommits on a real PostgreSQL', () => {
  let database: TestDatabase
  before(async () => { database = await createTestDatabase() })
  after(() => database?.drop())

  test('a write\'s own notification ends the wait, after its tags were applied; no query is sent', async () => {
    const bus = createInvalidationBus({ url: database.url, log: pino({ level: 'silent' }), heartbeatMs: 60_000 })
    try {
      assert.equal(await bus.whenListening(10_000), true)
      const applied: string[] = []
      bus.subscribe({ invalidate: (tags) => { applied.push(...tags) }, clear: () => {} })
      const [user] = await database.db.sql<{ id: string }>`insert into users (name, email, password_hash) values ('W', 'w@example.test', 'x') returning id`
      const [{ commit }] = await database.db.sql<{ commit: string }>`update users set name = 'W2' where id = ${user.id} returning pg_current_xact_id()::text as commit`
      let appliedAtResolve: string[] = []
      const started = performance.now()
      await bus.awaitCommits([commit], 30_000).then(() => { appliedAtResolve = [...applied] })
      assert.ok(performance.now() - started < 20_000, 'ended by the notification, not the timeout')
      assert.ok(appliedAtResolve.includes(`User:${user.id}`), `applied before the wait ended: ${appliedAtResolve.join(', ')}`)
    } finally {
      await bus.close()
    }
  })
})

describe('a mutation waits for its own commit', () => {
  let t: TestApp
  before(async () => { t = await startTestApp({ exposeSqlCount: true }) })
  after(() => t?.close())

  test('no marker is sent, and the writer reads its own write at once', async () => {
    const alice = await t.signUp('Alice')
    const created = await t.gql('mutation { createNote(input: { title: "v1", visibility: PUBLIC }) { id } }', { token: alice.token })
    const id = created.body.data.createNote.id as string
    const read = 'query ($id: ID!) { note(id: $id) { title } }'
    assert.equal((await t.gql(read, { token: alice.token, variables: { id } })).body.data.note.title, 'v1')

    const bus = t.app.responseCache!.bus
    const calls = { sync: 0, awaitCommits: 0 }
    const { sync, awaitCommits } = bus
    bus.sync = (timeoutMs) => { calls.sync++; return sync(timeoutMs) }
    bus.awaitCommits = (ids, timeoutMs) => { calls.awaitCommits++; return awaitCommits(ids, timeoutMs) }
    try {
      await t.gql('mutation ($id: ID!) { updateNote(id: $id, input: { title: "v2" }) { id } }', { token: alice.token, variables: { id } })
      await t.gql('mutation { updateUser(input: { name: "Alicia" }) { id } }', { token: alice.token })
      assert.deepEqual(calls, { sync: 0, awaitCommits: 2 })
    } finally {
      bus.sync = sync
      bus.awaitCommits = awaitCommits
    }
    assert.equal((await t.gql(read, { token: alice.token, variables: { id } })).body.data.note.title, 'v2')
  })
})
