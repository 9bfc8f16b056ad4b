/**
 * Who sees what: a note is visible to its author, to admins, and to everyone when PUBLIC;
 * every list, count and tag shows only what the viewer may see; email only to self and admins.
 * Four viewers (author, other user, admin, anonymous) ask every read field.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let alice: { id: string, token: string, email: string }
let bob: { id: string, token: string, email: string }
let adminToken: string
/** Alice's private note (tags mixed, alice-only), Alice's public note (tag mixed), Bob's public and private notes. */
const ids = { alicePrivate: '', alicePublic: '', bobPublic: '', bobPrivate: '' }
type Viewer = 'alice' | 'bob' | 'admin' | 'anonymous'
const tokenOf = (viewer: Viewer): string | undefined =>
  viewer === 'alice' ? alice.token : viewer === 'bob' ? bob.token : viewer === 'admin' ? adminToken : undefined

async function ask (viewer: Viewer, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const result = await t.gql(query, { token: tokenOf(viewer), variables })
  assert.equal(result.status, 200, JSON.stringify(result.body))
  assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors))
  return result.body.data
}

async function createNote (token: string, input: Record<string, unknown>): Promise<string> {
  const result = await t.gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', { token, variables: { input } })
  assert.ok(result.body.data?.createNote, JSON.stringify(result.body))
  return result.body.data.createNote.id
}

before(async () => {
  t = await startTestApp()
  alice = await t.signUp('Alice')
  bob = await t.signUp('Bob')
  const admin = await t.signUp('Admin')
  adminToken = await t.promoteToAdmin(admin.id)
  ids.alicePrivate = await createNote(alice.token, { title: 'alice private', tags: ['mixed', 'alice-only'] })
  ids.alicePublic = await createNote(alice.token, { title: 'alice public', visibility: 'PUBLIC', tags: ['mixed'] })
  ids.bobPublic = await createNote(bob.token, { title: 'bob public', visibility: 'PUBLIC' })
  ids.bobPrivate = await createNote(bob.token, { title: 'bob private', visibility: 'PRIVATE', tags: ['bob-only'] })
})
after(() => t.close())

const all = (): string[] => [ids.alicePrivate, ids.alicePublic, ids.bobPublic, ids.bobPrivate]
const visibleTo: Record<Viewer, () => string[]> = {
  alice: () => [ids.alicePrivate, ids.alicePublic, ids.bobPublic],
  bob: () => [ids.alicePublic, ids.bobPublic, ids.bobPrivate],
  admin: all,
  anonymous: () => [ids.alicePublic, ids.bobPublic]
}
const viewers: Viewer[] = ['alice', 'bob', 'admin', 'anonymous']

describe('note(id)', () => {
  for (const viewer of viewers) {
    test(`${viewer} gets exactly the notes they may see, null for the others`, async () => {
      for (const id of all()) {
        const data = await ask(viewer, 'query ($id: ID!) { note(id: $id) { id } }', { id })
        assert.deepEqual(data.note, visibleTo[viewer]().includes(id) ? { id } : null, `note ${id} as ${viewer}`)
      }
    })
  }

  test('a missing note is null, like an invisible one', async () => {
    const data = await ask('admin', 'query { note(id: "999999") { id } }')
    assert.equal(data.note, null)
  })
})

describe('notes', () => {
  for (const viewer of viewers) {
    test(`${viewer} lists exactly the visible notes, in id order`, async () => {
      const data = await ask(viewer, '{ notes { id } }')
      assert.deepEqual(data.notes.map((n: { id: string }) => n.id), visibleTo[viewer]())
    })
  }

  test('notes(tag:) hides notes of that tag the viewer may not see', async () => {
    const bobData = await ask('bob', '{ notes(tag: "mixed") { id } }')
    assert.deepEqual(bobData.notes, [{ id: ids.alicePublic }])
    const aliceData = await ask('alice', '{ notes(tag: "mixed") { id } }')
    assert.deepEqual(aliceData.notes, [{ id: ids.alicePrivate }, { id: ids.alicePublic }])
  })
})

describe('user.notes and user.noteCount', () => {
  const expected: Record<Viewer, { notes: () => string[], count: number }> = {
    alice: { notes: () => [ids.alicePrivate, ids.alicePublic], count: 2 },
    bob: { notes: () => [ids.alicePublic], count: 1 },
    admin: { notes: () => [ids.alicePrivate, ids.alicePublic], count: 2 },
    anonymous: { notes: () => [ids.alicePublic], count: 1 }
  }
  for (const viewer of viewers) {
    test(`${viewer} sees ${expected[viewer].count} of Alice's notes`, async () => {
      const data = await ask(viewer, 'query ($id: ID!) { user(id: $id) { noteCount notes { id } } }', { id: alice.id })
      assert.deepEqual(data.user, { noteCount: expected[viewer].count, notes: expected[viewer].notes().map((id) => ({ id })) })
    })
  }
})

describe('tag(name), tag.notes and tags', () => {
  for (const viewer of viewers) {
    test(`${viewer}: tags of invisible notes do not exist`, async () => {
      const data = await ask(viewer, '{ tags { name } onlyAlice: tag(name: "alice-only") { name } onlyBob: tag(name: "bob-only") { name } }')
      const names = data.tags.map((tag: { name: string }) => tag.name)
      const seesAlicePrivate = viewer === 'alice' || viewer === 'admin'
      const seesBobPrivate = viewer === 'bob' || viewer === 'admin'
      assert.deepEqual(data.onlyAlice, seesAlicePrivate ? { name: 'alice-only' } : null)
      assert.deepEqual(data.onlyBob, seesBobPrivate ? { name: 'bob-only' } : null)
      const expectedNames = ['mixed', ...(seesAlicePrivate ? ['alice-only'] : []), ...(seesBobPrivate ? ['bob-only'] : [])]
      assert.deepEqual([...names].sort(), [...expectedNames].sort())
    })

    test(`${viewer}: tag.notes lists only visible notes`, async () => {
      const data = await ask(viewer, '{ tag(name: "mixed") { notes { id } } }')
      const expected = visibleTo[viewer]().filter((id) => id === ids.alicePrivate || id === ids.alicePublic)
      assert.deepEqual(data.tag.notes.map((n: { id: string }) => n.id), expected)
    })
  }

  test('an unknown tag is null', async () => {
    const data = await ask('admin', '{ tag(name: "no-such-tag") { name } }')
    assert.equal(data.tag, null)
  })
})

describe('email', () => {
  const seesAliceEmail: Record<Viewer, boolean> = { alice: true, bob: false, admin: true, anonymous: false }
  for (const viewer of viewers) {
    test(`${viewer} ${seesAliceEmail[viewer] ? 'sees' : 'does not see'} Alice's email through user, users and note.author`, async () => {
      const data = await ask(viewer, `query ($id: ID!, $note: ID!) {
        user(id: $id) { email } users { id email } note(id: $note) { author { email } } }`, { id: alice.id, note: ids.alicePublic })
      const email = seesAliceEmail[viewer] ? alice.email : null
      assert.equal(data.user.email, email)
      assert.equal(data.users.find((u: { id: string }) => u.id === alice.id).email, email)
      assert.equal(data.note.author.email, email)
    })
  }

  test('me is null when anonymous and shows the own email when signed in', async () => {
    assert.equal((await ask('anonymous', '{ me { id } }')).me, null)
    assert.deepEqual((await ask('bob', '{ me { id email } }')).me, { id: bob.id, email: bob.email })
  })
})
