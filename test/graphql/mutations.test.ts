/**
 * Mutations: the author edits, an admin edits, another user gets NOT_FOUND and the data stays
 * as it was; every mutation that needs a viewer refuses anonymous requests.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let alice: { id: string, token: string }
let bob: { id: string, token: string }
let adminToken: string

const UPDATE = 'mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id title body visibility tags { name } } }'
const DELETE = 'mutation ($id: ID!) { deleteNote(id: $id) }'
const READ = 'query ($id: ID!) { note(id: $id) { id title body visibility tags { name } } }'

async function createNote (token: string, input: Record<string, unknown>): Promise<string> {
  const result = await t.gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', { token, variables: { input } })
  assert.ok(result.body.data?.createNote, JSON.stringify(result.body))
  return result.body.data.createNote.id
}

async function readAsAdmin (id: string): Promise<unknown> {
  return (await t.gql(READ, { token: adminToken, variables: { id } })).body.data.note
}

before(async () => {
  t = await startTestApp()
  alice = await t.signUp('Alice')
  bob = await t.signUp('Bob')
  const admin = await t.signUp('Admin')
  adminToken = await t.promoteToAdmin(admin.id)
})
after(() => t.close())

describe('createNote', () => {
  test('returns the note with defaults: empty body, PRIVATE, no tags; duplicate tags collapse', async () => {
    const result = await t.gql('mutation { createNote(input: { title: "t" }) { title body visibility tags { name } author { id } } }', { token: alice.token })
    assert.deepEqual(result.body.data.createNote, { title: 't', body: '', visibility: 'PRIVATE', tags: [], author: { id: alice.id } })
    const tagged = await t.gql('mutation { createNote(input: { title: "t", tags: ["x", "x", "y"] }) { tags { name } } }', { token: alice.token })
    assert.deepEqual(tagged.body.data.createNote.tags, [{ name: 'x' }, { name: 'y' }])
  })

  test('many at once creating the same new tags: every note has exactly the tags it asked for, in its order', async () => {
    // createNote's transaction creates missing tags in one statement, then links them in
    // another whose snapshot must see the tags a concurrent writer made meanwhile.
    const names = ['race-a', 'race-b', 'race-c', 'race-d']
    const orders = Array.from({ length: 24 }, (_, i) => [names[i % 4], names[(i + 1) % 4], names[(i + 3) % 4]].slice(0, 1 + (i % 3)))
    const results = await Promise.all(orders.map((tags, i) =>
      t.gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id tags { name } } }',
        { token: i % 2 === 0 ? alice.token : bob.token, variables: { input: { title: `race ${i}`, tags } } })))
    for (const [i, result] of results.entries()) {
      assert.deepEqual(result.body.data?.createNote?.tags, orders[i].map((name) => ({ name })), JSON.stringify(result.body))
    }
    const linked = await t.database.db.sql<{ id: string, names: string[] }>`
      select n.id::text as id, array_agg(t.name order by t.name) as names
      from notes n join note_tags nt on nt.note_id = n.id join tags t on t.id = nt.tag_id
      where n.title like 'race %' group by n.id`
    const byId = new Map(linked.map((row) => [row.id, row.names]))
    for (const [i, result] of results.entries()) {
      assert.deepEqual(byId.get(result.body.data.createNote.id), [...orders[i]].sort(), `note ${i} in the database`)
    }
    const tags = await t.database.db.sql<{ count: number }>`select count(*)::int as count from tags where name like 'race-%'`
    assert.equal(tags[0].count, 4, 'each name made once')
  })
})

describe('updateNote and deleteNote', () => {
  test('the author updates title, body, visibility and tags; omitted fields keep their value', async () => {
    const id = await createNote(alice.token, { title: 'before', body: 'b', tags: ['old'] })
    const changed = await t.gql(UPDATE, { token: alice.token, variables: { id, input: { title: 'after', visibility: 'PUBLIC', tags: ['new'] } } })
    assert.deepEqual(changed.body.data.updateNote, { id, title: 'after', body: 'b', visibility: 'PUBLIC', tags: [{ name: 'new' }] })
    assert.deepEqual(await readAsAdmin(id), changed.body.data.updateNote)
  })

  test('another user gets NOT_FOUND for update and delete, and the note is unchanged', async () => {
    for (const visibility of ['PRIVATE', 'PUBLIC']) {
      const id = await createNote(alice.token, { title: 'mine', body: 'body', visibility, tags: ['keep'] })
      const before = await readAsAdmin(id)
      const update = await t.gql(UPDATE, { token: bob.token, variables: { id, input: { title: 'stolen', tags: [] } } })
      assert.equal(update.status, 200)
      assert.equal(update.body.data, null)
      assert.equal(update.body.errors?.[0].extensions?.code, 'NOT_FOUND')
      const deletion = await t.gql(DELETE, { token: bob.token, variables: { id } })
      assert.equal(deletion.body.data, null)
      assert.equal(deletion.body.errors?.[0].extensions?.code, 'NOT_FOUND')
      assert.deepEqual(await readAsAdmin(id), before, `${visibility} note changed by another user`)
    }
  })

  test('a missing note: NOT_FOUND, the same answer as a note of someone else', async () => {
    const update = await t.gql(UPDATE, { token: alice.token, variables: { id: '999999', input: { title: 'x' } } })
    assert.equal(update.body.errors?.[0].extensions?.code, 'NOT_FOUND')
    const deletion = await t.gql(DELETE, { token: alice.token, variables: { id: '999999' } })
    assert.equal(deletion.body.errors?.[0].extensions?.code, 'NOT_FOUND')
  })

  test('an admin updates and deletes anyone\'s note', async () => {
    const id = await createNote(alice.token, { title: 'alice' })
    const update = await t.gql(UPDATE, { token: adminToken, variables: { id, input: { body: 'moderated' } } })
    assert.equal(update.body.data.updateNote.body, 'moderated')
    const deletion = await t.gql(DELETE, { token: adminToken, variables: { id } })
    assert.deepEqual(deletion.body.data, { deleteNote: id })
    assert.equal(await readAsAdmin(id), null)
  })

  test('the author deletes their note: it is gone from note, notes and noteCount', async () => {
    const id = await createNote(bob.token, { title: 'short-lived', visibility: 'PUBLIC', tags: ['ephemeral'] })
    const countBefore = (await t.gql('{ me { noteCount } }', { token: bob.token })).body.data.me.noteCount
    const deletion = await t.gql(DELETE, { token: bob.token, variables: { id } })
    assert.deepEqual(deletion.body.data, { deleteNote: id })
    const after = await t.gql('query ($id: ID!) { note(id: $id) { id } notes(first: 100) { id } me { noteCount } tag(name: "ephemeral") { name } }',
      { token: bob.token, variables: { id } })
    assert.equal(after.body.data.note, null)
    assert.ok(!after.body.data.notes.some((n: { id: string }) => n.id === id))
    assert.equal(after.body.data.me.noteCount, countBefore - 1)
    assert.equal(after.body.data.tag, null)
  })
})

describe('updateUser', () => {
  test('renames the viewer only', async () => {
    const result = await t.gql('mutation { updateUser(input: { name: "  Bobby " }) { id name } }', { token: bob.token })
    assert.deepEqual(result.body.data.updateUser, { id: bob.id, name: 'Bobby' })
    const alicesName = await t.gql('query ($id: ID!) { user(id: $id) { name } }', { variables: { id: alice.id } })
    assert.equal(alicesName.body.data.user.name, 'Alice')
  })
})

describe('without a token', () => {
  const mutations: Array<[string, string, Record<string, unknown>]> = [
    ['createNote', 'mutation { createNote(input: { title: "t" }) { id } }', {}],
    ['updateNote', UPDATE, { id: '1', input: { title: 'x' } }],
    ['deleteNote', DELETE, { id: '1' }],
    ['updateUser', 'mutation { updateUser(input: { name: "x" }) { id } }', {}]
  ]
  for (const [name, query, variables] of mutations) {
    test(`${name} → UNAUTHENTICATED, nothing written`, async () => {
      const before = await t.database.db.sql`select (select count(*) from notes)::int as notes, (select string_agg(name, ',' order by id) from users) as names`
      const result = await t.gql(query, { variables })
      assert.equal(result.status, 200)
      assert.equal(result.body.data, null)
      assert.equal(result.body.errors?.[0].extensions?.code, 'UNAUTHENTICATED')
      assert.deepEqual(result.body.errors?.[0].path, [name])
      const after = await t.database.db.sql`select (select count(*) from notes)::int as notes, (select string_agg(name, ',' order by id) from users) as names`
      assert.deepEqual(after, before)
    })
  }
})
