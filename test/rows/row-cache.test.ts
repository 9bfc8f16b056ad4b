/**
 * The row cache beneath the loaders: rows shared between viewers, the viewer's rule still
 * applied per request, dropped by the same tags as the response cache, race-safe, bounded.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { anonymousViewer, userViewer, type Viewer } from '../../src/viewer.ts'
import { createRaceTracker } from '../../src/changes/race-tracker.ts'
import { approximateBytes, createRowCache, ENTRY_OVERHEAD_BYTES } from '../../src/rows/row-cache.ts'
import { TAG_ENTRY_BYTES } from '../../src/cache-primitives/tag-index.ts'
import { isNoteVisibleTo, noteVisibleTo } from '../../src/db/visibility.ts'
import { createRepositories } from '../../src/db/repositories.ts'
import { noDeadline } from '../../src/deadline/deadline.ts'
import { AUTHOR_LIST_MAX_NOTES } from '../../src/loaders/author-note-lists.ts'
import { createLoaderOptions } from '../../src/loaders/loader-options.ts'
import { createRowSources } from '../../src/rows/row-sources.ts'
import { createLoaders } from '../../src/loaders/loaders.ts'
import { localBus } from '../helpers/local-bus.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

describe('row cache (unit)', () => {
  function rowCacheOn (options: { maxBytes?: number, ttlMs?: number } = {}) {
    const bus = localBus()
    const tracker = createRaceTracker({ clockSkewMs: 0, retentionMs: 60_000 })
    bus.subscribe(tracker)
    return { bus, rows: createRowCache({ maxBytes: options.maxBytes ?? 1_000_000, ttlMs: options.ttlMs ?? 60_000, bus, tracker }) }
  }

  test('a row is kept, then dropped by any of its tags', () => {
    const { bus, rows } = rowCacheOn()
    rows.set('Note:1', { title: 'a' }, ['Note:1', 'notes@author:7'], rows.ticket())
    assert.deepEqual(rows.get('Note:1'), { title: 'a' })
    bus.announce(['notes@author:7'])
    assert.equal(rows.get('Note:1'), undefined)
  })

  test('a read that overlapped an invalidation of its tags is not stored; others are', () => {
    const { bus, rows } = rowCacheOn()
    const ticket = rows.ticket()
    bus.announce(['Note:1'])
    rows.set('Note:1', 'stale', ['Note:1'], ticket)
    rows.set('Note:2', 'fresh', ['Note:2'], ticket)
    assert.equal(rows.get('Note:1'), undefined)
    assert.equal(rows.get('Note:2'), 'fresh')
    rows.set('Note:1', 'after', ['Note:1'], rows.ticket())
    assert.equal(rows.get('Note:1'), 'after')
  })

  test('a row stored again under new tags answers only to its new tags', () => {
    const { bus, rows } = rowCacheOn()
    rows.set('AuthorNotes:7', ['n1'], ['notes@author:7', 'Note:1'], rows.ticket())
    rows.set('AuthorNotes:7', ['n2'], ['notes@author:7', 'Note:2'], rows.ticket())
    bus.announce(['Note:1'])
    assert.deepEqual(rows.get('AuthorNotes:7'), ['n2'])
    bus.announce(['Note:2'])
    assert.equal(rows.get('AuthorNotes:7'), undefined)
  })

  test('clear refuses every read in flight', () => {
    const { bus, rows } = rowCacheOn()
    const ticket = rows.ticket()
    bus.announce('all')
    rows.set('User:1', 'x', ['User:1'], ticket)
    assert.equal(rows.get('User:1'), undefined)
  })

  test('while the bus is not listening nothing is served or stored', () => {
    const { bus, rows } = rowCacheOn()
    rows.set('User:1', 'kept', ['User:1'], rows.ticket())
    bus.listening = false
    assert.equal(rows.get('User:1'), undefined)
    rows.set('User:2', 'x', ['User:2'], rows.ticket())
    bus.listening = true
    assert.equal(rows.get('User:2'), undefined)
    assert.equal(rows.get('User:1'), 'kept', 'the bus itself clears on a loss; listening alone only gates')
  })

  test('bounded in bytes, bodies counted (at the bound kept, over it the least recent goes)', () => {
    const body = 'x'.repeat(10_000)
    const one = approximateBytes({ id: '1', body }) + ENTRY_OVERHEAD_BYTES + 'Note:1'.length + TAG_ENTRY_BYTES
    const { rows } = rowCacheOn({ maxBytes: one * 3 })
    for (const id of [1, 2, 3]) rows.set(`Note:${id}`, { id: String(id), body }, [`Note:${id}`], rows.ticket())
    assert.equal(rows.size, 3)
    assert.ok(rows.bytes <= one * 3 && rows.bytes > 30_000, `bytes ${rows.bytes}`)
    rows.set('Note:4', { id: '4', body }, ['Note:4'], rows.ticket())
    assert.equal(rows.size, 3)
    assert.equal(rows.get('Note:1'), undefined)
    assert.deepEqual(rows.get('Note:4'), { id: '4', body })
    rows.set('Note:5', { id: '5', body: 'x'.repeat(one * 3) }, ['Note:5'], rows.ticket())
    assert.equal(rows.get('Note:5'), undefined, 'a value larger than the whole bound is not kept')
  })

  test('a row lives no longer than its TTL', async () => {
    const { rows } = rowCacheOn({ ttlMs: 30 })
    rows.set('User:1', 1, ['User:1'], rows.ticket())
    assert.equal(rows.get('User:1'), 1)
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(rows.get('User:1'), undefined)
  })

  test('maxBytes 0 turns it off', () => {
    const { bus } = rowCacheOn()
    const rows = createRowCache({ maxBytes: 0, ttlMs: 1000, bus, tracker: createRaceTracker({ clockSkewMs: 0, retentionMs: 1000 }) })
    assert.equal(rows.enabled, false)
    rows.set('User:1', 1, ['User:1'], rows.ticket())
    assert.equal(rows.get('User:1'), undefined)
  })
})

describe('row cache through the API', () => {
  let t: TestApp
  let alice: { id: string, token: string }
  let bob: { id: string, token: string }
  let carol: { id: string, token: string }

  before(async () => {
    // The response cache off for the requests below would also turn rows off: keep it on, and
    // send Cache-Control: no-cache so that each request executes and only rows can be reused.
    t = await startTestApp({ exposeSqlCount: true })
    alice = await t.signUp('Alice')
    bob = await t.signUp('Bob')
    carol = await t.signUp('Carol')
  })
  after(() => t.close())

  const noCache = { 'cache-control': 'no-cache' }
  const read = (query: string, token?: string, variables?: Record<string, unknown>) => t.gql(query, { token, variables, headers: noCache })

  test('a second viewer reads shared rows without SQL, and still only what they may see', async () => {
    const created = await t.gql('mutation { pub: createNote(input: { title: "open", visibility: PUBLIC, tags: ["x"] }) { id } priv: createNote(input: { title: "mine", tags: ["y"] }) { id } }', { token: alice.token })
    const { pub, priv } = created.body.data
    const query = 'query ($id: ID!) { user(id: $id) { name noteCount notes { id title tags { name } author { name } } } }'
    const asAlice = await read(query, alice.token, { id: alice.id })
    assert.deepEqual(asAlice.body.data.user.notes.map((n: { id: string }) => n.id), [pub.id, priv.id])
    assert.equal(asAlice.body.data.user.noteCount, 2)

    // The viewers' own users rows (their role and existence) are rows too: read once each.
    for (const viewer of [bob, carol]) assert.equal((await read('{ me { id } }', viewer.token)).body.extensions?.sqlStatements, 1)
    const asBob = await read(query, bob.token, { id: alice.id })
    // Counts are counted, never cut from the author's rows: the public count is read once for
    // every viewer who is neither the author nor an admin.
    assert.equal(asBob.body.extensions?.sqlStatements, 1, 'only the public note count was not cached yet')
    assert.deepEqual(asBob.body.data.user.notes.map((n: { id: string }) => n.id), [pub.id])
    assert.equal(asBob.body.data.user.noteCount, 1)
    const asCarol = await read(query, carol.token, { id: alice.id })
    assert.equal(asCarol.body.extensions?.sqlStatements, 0, 'every row came from the row cache')
    assert.deepEqual(asCarol.body.data, asBob.body.data)
    // The private note's row, read once, is kept; the anonymous viewer still never sees it.
    for (const expectedStatements of [1, 0]) {
      const anonymous = await read('query ($id: ID!) { note(id: $id) { title } }', undefined, { id: priv.id })
      assert.equal(anonymous.body.data.note, null)
      assert.equal(anonymous.body.extensions?.sqlStatements, expectedStatements)
    }
    const asAuthor = await read('query ($id: ID!) { note(id: $id) { title } }', alice.token, { id: priv.id })
    assert.deepEqual(asAuthor.body.data.note, { title: 'mine' })
  })

  test('a mutation drops the rows it changed, for every viewer', async () => {
    const { body } = await t.gql('mutation { createNote(input: { title: "v1", visibility: PUBLIC, tags: ["a"] }) { id } }', { token: carol.token })
    const id = body.data.createNote.id
    const query = 'query ($id: ID!, $author: ID!) { note(id: $id) { title tags { name } } user(id: $author) { noteCount notes { title } } }'
    await read(query, bob.token, { id, author: carol.id })
    await t.gql('mutation ($id: ID!) { updateNote(id: $id, input: { title: "v2", tags: ["b"] }) { id } }', { token: carol.token, variables: { id } })
    const afterUpdate = await read(query, bob.token, { id, author: carol.id })
    assert.deepEqual(afterUpdate.body.data.note, { title: 'v2', tags: [{ name: 'b' }] })
    assert.deepEqual(afterUpdate.body.data.user.notes.map((n: { title: string }) => n.title), ['v2'])

    await t.gql('mutation ($id: ID!) { updateNote(id: $id, input: { visibility: PRIVATE }) { id } }', { token: carol.token, variables: { id } })
    const hidden = await read(query, bob.token, { id, author: carol.id })
    assert.equal(hidden.body.data.note, null)
    assert.equal(hidden.body.data.user.noteCount, 0)

    await t.gql('mutation { createNote(input: { title: "v3", visibility: PUBLIC }) { id } }', { token: carol.token })
    const added = await read(query, bob.token, { id, author: carol.id })
    assert.deepEqual(added.body.data.user.notes.map((n: { title: string }) => n.title), ['v3'])

    await t.gql('mutation { updateUser(input: { name: "Caroline" }) { id } }', { token: carol.token })
    const renamed = await read('query ($id: ID!) { user(id: $id) { name } }', bob.token, { id: carol.id })
    assert.equal(renamed.body.data.user.name, 'Caroline')
  })

  test('a users window is read once for every viewer; a rename or a new user reaches it', async () => {
    // The first three users of this file's database.
    const query = '{ users(first: 3) { id name } }'
    const first = await read(query, bob.token)
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors))
    assert.deepEqual(first.body.data.users.map((u: { id: string }) => u.id), [alice.id, bob.id, carol.id])
    assert.equal((await read(query, carol.token)).body.extensions?.sqlStatements, 0, 'another viewer, the same window: no SQL')
    assert.equal((await read(query, undefined)).body.extensions?.sqlStatements, 0)
    const otherWindow = await read('{ users(first: 2) { id name } }', carol.token)
    assert.equal(otherWindow.body.extensions?.sqlStatements, 1, 'a window of its own')
    const afterAlice = 'query ($after: ID) { users(first: 1, after: $after) { id } }'
    assert.deepEqual((await read(afterAlice, carol.token, { after: alice.id })).body.data.users, [{ id: bob.id }])
    const again = await read(afterAlice, bob.token, { after: alice.id })
    assert.deepEqual([again.body.data.users, again.body.extensions?.sqlStatements], [[{ id: bob.id }], 0])
    assert.deepEqual((await read(afterAlice, bob.token, { after: bob.id })).body.data.users, [{ id: carol.id }], 'another cursor, another window')

    await t.gql('mutation { updateUser(input: { name: "Bobby" }) { id } }', { token: bob.token })
    const renamed = await read(query, carol.token)
    assert.equal(renamed.body.extensions?.sqlStatements, 1)
    const names = first.body.data.users.map((u: { id: string, name: string }) => u.id === bob.id ? 'Bobby' : u.name)
    assert.deepEqual(renamed.body.data.users.map((u: { name: string }) => u.name), names)
    // The window's last place taken by someone new only if ids say so: a sign-up enters the
    // `users` list, so every window is read again.
    await t.signUp('Dave')
    assert.equal((await read(query, carol.token)).body.extensions?.sqlStatements, 1)
  })

  test(`an author with more than ${AUTHOR_LIST_MAX_NOTES} notes is windowed by SQL, at the bound from the list`, async () => {
    const big = await t.signUp('Big')
    const atBound = await t.signUp('AtBound')
    const insert = (authorId: string, count: number) => t.database.db.sql`
      insert into notes (author_id, title, visibility)
      select ${authorId}, 'n' || i, case when i % 2 = 0 then 'PUBLIC' else 'PRIVATE' end from generate_series(1, ${count}) i`
    await insert(big.id, AUTHOR_LIST_MAX_NOTES + 1)
    await insert(atBound.id, AUTHOR_LIST_MAX_NOTES)
    const query = 'query ($id: ID!) { user(id: $id) { noteCount notes(first: 3) { title } } }'
    for (const [author, total] of [[big, AUTHOR_LIST_MAX_NOTES + 1], [atBound, AUTHOR_LIST_MAX_NOTES]] as const) {
      const first = await read(query, bob.token, { id: author.id })
      assert.equal(first.body.data.user.noteCount, Math.floor(total / 2))
      assert.deepEqual(first.body.data.user.notes.map((n: { title: string }) => n.title), ['n2', 'n4', 'n6'])
      const again = await read(query, bob.token, { id: author.id })
      assert.deepEqual(again.body.data, first.body.data)
      // Over the bound the list is not kept, so windows and counts keep going to SQL.
      if (total > AUTHOR_LIST_MAX_NOTES) assert.ok(again.body.extensions!.sqlStatements as number > 0)
      else assert.equal(again.body.extensions!.sqlStatements, 0)
    }
  })

  test('a note\'s tags from the row cache follow the viewer\'s rule too', async () => {
    const { body } = await t.gql('mutation { createNote(input: { title: "hidden", tags: ["secret-tag"] }) { id } }', { token: alice.token })
    const id = body.data.createNote.id as string
    const bus = localBus()
    const tracker = createRaceTracker({ clockSkewMs: 0, retentionMs: 60_000 })
    bus.subscribe(tracker)
    const rowCache = createRowCache({ maxBytes: 1_000_000, ttlMs: 60_000, bus, tracker })
    const loadersOf = (viewer: Viewer) => createLoaders({ repositories: createRepositories(t.database.db), viewer, scope: { sqlCounter: { statements: 0 }, deadline: noDeadline }, rowCache, rowSources: createRowSources(createRepositories(t.database.db)) },
      createLoaderOptions({ maxBatchSize: 100 }))
    // The author first: the note's tags are now shared rows.
    assert.deepEqual((await loadersOf(userViewer(alice.id, 'user')).tagsByNote.load(id)).map((tag) => tag.name), ['secret-tag'])
    for (const viewer of [anonymousViewer, userViewer(bob.id, 'user')]) {
      assert.deepEqual(await loadersOf(viewer).tagsByNote.load(id), [], `${viewer.scope} learnt a private note's tags`)
    }
    assert.deepEqual((await loadersOf(userViewer(bob.id, 'admin')).tagsByNote.load(id)).map((tag) => tag.name), ['secret-tag'])
  })

  test('a re-tag drops tag(name) answers of the tag the note left', async () => {
    const { body } = await t.gql('mutation { createNote(input: { title: "solo", visibility: PUBLIC, tags: ["only-here"] }) { id } }', { token: carol.token })
    const query = '{ tag(name: "only-here") { name } }'
    await t.gql(query)
    const cached = await t.gql(query)
    assert.equal(cached.body.extensions?.sqlStatements, 0, 'cached before the re-tag')
    assert.deepEqual(cached.body.data.tag, { name: 'only-here' })
    await t.gql('mutation ($id: ID!) { updateNote(id: $id, input: { tags: ["elsewhere"] }) { id } }', { token: carol.token, variables: { id: body.data.createNote.id } })
    assert.equal((await t.gql(query)).body.data.tag, null, 'a tag no visible note carries any more')
  })

  test('the JavaScript rule and the SQL rule agree for any viewer and note', async () => {
    const viewers: Viewer[] = [anonymousViewer, userViewer(alice.id, 'user'), userViewer(bob.id, 'user'), userViewer(bob.id, 'admin')]
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...viewers), fc.constantFrom(alice.id, bob.id), fc.constantFrom('PUBLIC', 'PRIVATE'),
      async (viewer, authorId, visibility) => {
        const sql = t.database.db.sql
        const [row] = await sql`select ${noteVisibleTo(viewer)} as visible
          from (select ${authorId}::bigint as author_id, ${visibility}::text as visibility) n`
        assert.equal(row.visible, isNoteVisibleTo(viewer, { authorId, visibility }))
      }), { numRuns: 40 })
  })
})
