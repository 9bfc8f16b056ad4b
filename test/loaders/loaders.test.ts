/**
 * The per-request loaders, at the loader level (batching, dedup, splitting, failures, missing
 * keys, request isolation) and through HTTP (isolation under concurrency, per-parent windows).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { anonymousViewer, userViewer, type Viewer } from '../../src/viewer.ts'
import { disabledRowCache, type RowCache } from '../../src/rows/row-cache.ts'
import { createRepositories } from '../../src/db/repositories.ts'
import type { QueryScope } from '../../src/db/gateway.ts'
import { noDeadline } from '../../src/deadline/deadline.ts'
import { createLoaderOptions } from '../../src/loaders/loader-options.ts'
import { createRowSources } from '../../src/rows/row-sources.ts'
import { createLoaders, type Loaders } from '../../src/loaders/loaders.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { sqlStatementsOf } from './statement-guard.ts'

let t: TestApp
let alice: { id: string, token: string }
let bob: { id: string, token: string }
let alicePrivateNote: string
/** Alice's notes in id order, all visible to her. */
let aliceNotes: string[]

before(async () => {
  t = await startTestApp({ exposeSqlCount: true, cacheEnabled: false })
  alice = await t.signUp('Alice')
  bob = await t.signUp('Bob')
  for (let i = 1; i <= 6; i++) {
    const visibility = i === 1 ? 'PRIVATE' : 'PUBLIC'
    await t.gql(`mutation { createNote(input: { title: "a${i}", visibility: ${visibility}, tags: ["shared", "a${i % 2}"] }) { id } }`, { token: alice.token })
    await t.gql(`mutation { createNote(input: { title: "b${i}", visibility: PUBLIC, tags: ["shared"] }) { id } }`, { token: bob.token })
  }
  const rows = await t.database.db.sql<{ id: string, visibility: string }>`
    select id::text, visibility from notes where author_id = ${alice.id} order by notes.id`
  aliceNotes = rows.map((row) => row.id)
  alicePrivateNote = rows.find((row) => row.visibility === 'PRIVATE')!.id
})
after(() => t.close())

/** One request's worth of loaders, as createRequestContext builds them, plus what they did. */
function requestLoaders (viewer: Viewer, maxBatchSize = 500, rowCache: RowCache = disabledRowCache): { loaders: Loaders, scope: QueryScope, batches: Array<[string, number]> } {
  const batches: Array<[string, number]> = []
  const scope: QueryScope = { sqlCounter: { statements: 0 }, deadline: noDeadline }
  const options = createLoaderOptions({ maxBatchSize, onBatch: (name, size) => batches.push([name, size]) })
  return { loaders: createLoaders({ repositories: createRepositories(t.database.db), viewer, scope, rowCache, rowSources: createRowSources(createRepositories(t.database.db)) }, options), scope, batches }
}

describe('loader options', () => {
  test('maxBatchSize must be a positive integer, validated once', () => {
    assert.throws(() => createLoaderOptions({ maxBatchSize: 0 }), /maxBatchSize must be a positive integer: 0/)
    assert.throws(() => createLoaderOptions({ maxBatchSize: 1.5 }), /positive integer: 1.5/)
    const options = createLoaderOptions({ maxBatchSize: 1 })
    assert.equal(options.maxBatchSize, 1)
    assert.ok(Object.isFrozen(options))
  })
})

describe('batching', () => {
  test('five loads of different ids in one tick: one batch, one statement', async () => {
    const { loaders, scope, batches } = requestLoaders(userViewer(alice.id, 'user'))
    const notes = await Promise.all(aliceNotes.slice(0, 5).map((id) => loaders.noteById.load(id)))
    assert.deepEqual(notes.map((note) => note?.id), aliceNotes.slice(0, 5))
    assert.deepEqual(batches, [['noteById', 5]])
    assert.equal(scope.sqlCounter.statements, 1)
  })

  test('loads in different ticks are different batches', async () => {
    const { loaders, scope } = requestLoaders(userViewer(alice.id, 'user'))
    await loaders.noteById.load(aliceNotes[0])
    await loaders.noteById.load(aliceNotes[1])
    assert.equal(scope.sqlCounter.statements, 2)
  })

  test('the same id twice in one request: the same object, asked once', async () => {
    const { loaders, scope, batches } = requestLoaders(userViewer(alice.id, 'user'))
    const [first, second] = await Promise.all([loaders.noteById.load(aliceNotes[0]), loaders.noteById.load(aliceNotes[0])])
    const later = await loaders.noteById.load(aliceNotes[0])
    assert.ok(first !== null)
    assert.equal(first, second)
    assert.equal(first, later)
    assert.deepEqual(batches, [['noteById', 1]])
    assert.equal(scope.sqlCounter.statements, 1)
  })

  test('the same window twice is one key; another window of the same parent is another', async () => {
    const { loaders, batches } = requestLoaders(userViewer(alice.id, 'user'))
    const window = { parentId: alice.id, first: 2, after: null }
    const [a, b, c] = await Promise.all([
      loaders.notesByAuthor.load(window), loaders.notesByAuthor.load({ ...window }), loaders.notesByAuthor.load({ ...window, first: 3 })])
    assert.equal(a, b)
    assert.equal(c.length, 3)
    assert.deepEqual(batches, [['notesByAuthor', 2]])
  })

  for (const [ids, expected] of [[100, [100]], [101, [100, 1]], [250, [100, 100, 50]]] as const) {
    test(`${ids} ids with maxBatchSize 100: ${expected.length} batch(es), ${expected.length} statement(s)`, async () => {
      const { loaders, scope, batches } = requestLoaders(anonymousViewer, 100)
      const keys = Array.from({ length: ids }, (_, i) => String(i + 1))
      const users = await loaders.userById.loadMany(keys)
      assert.equal(users.length, ids)
      assert.deepEqual(batches.map(([, size]) => size), expected)
      assert.equal(scope.sqlCounter.statements, expected.length)
    })
  }
})

describe('missing keys and failures', () => {
  test('a missing key resolves to null (or an empty list, or zero), one statement per loader', async () => {
    const { loaders, scope } = requestLoaders(userViewer(alice.id, 'user'))
    const missing = '999999999'
    const [user, note, tag, notes, tags, count] = await Promise.all([
      loaders.userById.load(missing), loaders.noteById.load(missing), loaders.tagByName.load('no-such-tag'),
      loaders.notesByAuthor.load({ parentId: missing, first: 5, after: null }), loaders.tagsByNote.load(missing),
      loaders.noteCountByAuthor.load(missing)])
    assert.deepEqual([user, note, tag, notes, tags, count], [null, null, null, [], [], 0])
    assert.equal(scope.sqlCounter.statements, 6)
  })

  test('a failing batch rejects its own keys only and is not cached: the next load asks again', async () => {
    // maxBatchSize 2 → batches [Alice, missing] and [Bob, bad]; the bad key (not a bigint)
    // makes PostgreSQL refuse the second statement, so Bob fails with it.
    const { loaders, scope, batches } = requestLoaders(anonymousViewer, 2)
    const results = await Promise.allSettled([alice.id, '999999999', bob.id, 'not-a-number'].map((id) => loaders.userById.load(id)))
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected'])
    assert.equal((results[0] as PromiseFulfilledResult<{ name: string }>).value.name, 'Alice')
    assert.equal((results[1] as PromiseFulfilledResult<null>).value, null)
    assert.equal(batches.length, 2)
    assert.equal(scope.sqlCounter.statements, 2)

    const retried = await loaders.userById.load(bob.id)
    assert.equal(retried?.name, 'Bob')
    assert.equal(scope.sqlCounter.statements, 3)
    await assert.rejects(loaders.userById.load('not-a-number'))
    assert.equal(scope.sqlCounter.statements, 4, 'the failed key was asked again, not served from the cache')
    await loaders.userById.load(alice.id)
    assert.equal(scope.sqlCounter.statements, 4, 'keys of the good batch stay cached')
  })
})

describe('request isolation', () => {
  test('each request has its own loaders: a private note loaded for its author is not served to another user', async () => {
    const asAlice = requestLoaders(userViewer(alice.id, 'user'))
    const asBob = requestLoaders(userViewer(bob.id, 'user'))
    assert.notEqual(asAlice.loaders.noteById, asBob.loaders.noteById)
    assert.equal((await asAlice.loaders.noteById.load(alicePrivateNote))?.id, alicePrivateNote)
    assert.equal(await asBob.loaders.noteById.load(alicePrivateNote), null)
    assert.equal(asBob.scope.sqlCounter.statements, 1, "Bob's request asked the database itself")
    assert.deepEqual(await asBob.loaders.tagsByNote.load(alicePrivateNote), [], 'nor does Bob learn its tags')
  })

  test('through HTTP, concurrently: every request gets fresh loaders; Alice sees her private note, Bob never does', async () => {
    const seenLoaders = new Set<unknown>()
    t.app.graphql.addHook('preExecution', async (_schema, _document, context) => {
      seenLoaders.add((context as unknown as { loaders: unknown }).loaders)
    })
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' })
    const query = `{ note(id: "${alicePrivateNote}") { id title tags { name } } }`
    const rounds = 20
    const answers = await Promise.all(Array.from({ length: rounds * 2 }, async (_, i) => {
      const viewer = i % 2 === 0 ? alice : bob
      const response = await fetch(`${address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` },
        body: JSON.stringify({ query })
      })
      return { viewer, body: await response.json() as { data: { note: unknown } } }
    }))
    for (const { viewer, body } of answers) {
      // Tags are listed in id order; the first note's new tags got their ids in name order.
      if (viewer === alice) assert.deepEqual(body.data.note, { id: alicePrivateNote, title: 'a1', tags: [{ name: 'a1' }, { name: 'shared' }] })
      else assert.equal(body.data.note, null)
    }
    assert.equal(seenLoaders.size, rounds * 2)
  })
})

describe('paginated children', () => {
  test('different first/after per parent in one request: one statement serves every window', async () => {
    const result = await t.gql(`{
      a: user(id: "${alice.id}") {
        head: notes(first: 2) { id }
        tail: notes(first: 3, after: "${aliceNotes[1]}") { id }
      }
      b: user(id: "${bob.id}") { notes(first: 4) { title } }
    }`, { token: alice.token })
    assert.equal(result.body.errors, undefined)
    assert.deepEqual(result.body.data.a.head.map((n: { id: string }) => n.id), aliceNotes.slice(0, 2))
    assert.deepEqual(result.body.data.a.tail.map((n: { id: string }) => n.id), aliceNotes.slice(2, 5))
    assert.deepEqual(result.body.data.b.notes.map((n: { title: string }) => n.title), ['b1', 'b2', 'b3', 'b4'])
    assert.equal(sqlStatementsOf(result), 3, 'the viewer\'s users row (row cache off) + usersByIds + notesByAuthors')
  })

  test('tag windows too, with the visibility rule inside the statement', async () => {
    const query = `{
      all: tag(name: "shared") { notes(first: 3) { title } }
      odd: tag(name: "a1") { notes(first: 2, after: "${aliceNotes[0]}") { title } }
    }`
    const asAlice = await t.gql(query, { token: alice.token })
    assert.deepEqual(asAlice.body.data.all.notes.map((n: { title: string }) => n.title), ['a1', 'b1', 'a2'])
    assert.deepEqual(asAlice.body.data.odd.notes.map((n: { title: string }) => n.title), ['a3', 'a5'])
    assert.equal(sqlStatementsOf(asAlice), 3, 'the viewer\'s users row (row cache off) + tagsByNames + notesByTags')
    const asBob = await t.gql(query, { token: bob.token })
    assert.deepEqual(asBob.body.data.all.notes.map((n: { title: string }) => n.title), ['b1', 'a2', 'b2'])
    assert.deepEqual(asBob.body.data.odd.notes.map((n: { title: string }) => n.title), ['a3', 'a5'])
  })
})
