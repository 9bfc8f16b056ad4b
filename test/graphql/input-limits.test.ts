/**
 * Every input limit on both sides: the value at the limit is accepted, one past it is a
 * BAD_USER_INPUT whose extensions.field names the field, and nothing is written.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type GraphQLResult, type TestApp } from '../helpers/app.ts'

let t: TestApp
let alice: { id: string, token: string, email: string }
let noteId: string

const CREATE = 'mutation ($input: CreateNoteInput!) { createNote(input: $input) { id title tags { name } } }'
const UPDATE = 'mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }'
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { id name } } }'
const RENAME = 'mutation ($name: String) { updateUser(input: { name: $name }) { name } }'

function assertAccepted (result: GraphQLResult): void {
  assert.equal(result.status, 200)
  assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors))
}

function assertBadInput (result: GraphQLResult, field: string): void {
  assert.equal(result.status, 200)
  const error = result.body.errors?.[0]
  assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(result.body))
  assert.equal(error?.extensions?.field, field)
  assert.match(error!.message, new RegExp(`^${field}: `), 'the message names the field too')
  // A failed non-null root field nulls `data`; a failed nullable one (note, user) nulls itself.
  const data = result.body.data as Record<string, unknown> | null
  assert.ok(data === null || Object.values(data).every((value) => value === null), JSON.stringify(data))
}

async function noteCount (): Promise<number> {
  const [{ count }] = await t.database.db.sql`select count(*)::int as count from notes`
  return count
}

before(async () => {
  t = await startTestApp()
  alice = await t.signUp('Alice')
  const created = await t.gql(CREATE, { token: alice.token, variables: { input: { title: 'base' } } })
  noteId = created.body.data.createNote.id
})
after(() => t.close())

describe('note title: 1..200 characters', () => {
  for (const [label, title] of [['1 character', 'x'], ['200 characters', 'x'.repeat(200)], ['200 astral characters (counted as characters, not UTF-16 units)', '📝'.repeat(200)]]) {
    test(`${label}: accepted by createNote and updateNote`, async () => {
      const created = await t.gql(CREATE, { token: alice.token, variables: { input: { title } } })
      assertAccepted(created)
      assert.equal(created.body.data.createNote.title, title)
      assertAccepted(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { title } } }))
    })
  }
  for (const [label, title] of [['empty', ''], ['201 characters', 'x'.repeat(201)]]) {
    test(`${label}: BAD_USER_INPUT title, nothing written`, async () => {
      const count = await noteCount()
      assertBadInput(await t.gql(CREATE, { token: alice.token, variables: { input: { title } } }), 'title')
      assertBadInput(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { title } } }), 'title')
      assert.equal(await noteCount(), count)
    })
  }
})

describe('note body: at most 100 KB (102400 bytes of UTF-8)', () => {
  const limit = 100 * 1024
  test('exactly 100 KB: accepted (ASCII, and 2-byte characters)', async () => {
    assertAccepted(await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', body: 'b'.repeat(limit) } } }))
    assertAccepted(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { body: 'é'.repeat(limit / 2) } } }))
  })
  test('100 KB + 1 byte: BAD_USER_INPUT body (also when the extra byte is half a 2-byte character)', async () => {
    const count = await noteCount()
    assertBadInput(await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', body: 'b'.repeat(limit + 1) } } }), 'body')
    assertBadInput(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { body: 'é'.repeat(limit / 2 - 1) + 'bbb' } } }), 'body')
    assert.equal(await noteCount(), count)
  })
})

describe('tags: at most 10, each 1..40 characters', () => {
  const tags = (n: number): string[] => Array.from({ length: n }, (_, i) => `tag-${i}`)
  test('10 tags, and a tag of 40 characters: accepted', async () => {
    const created = await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', tags: tags(10) } } })
    assertAccepted(created)
    assert.equal(created.body.data.createNote.tags.length, 10)
    assertAccepted(await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', tags: ['t'.repeat(40)] } } }))
    assertAccepted(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { tags: tags(10) } } }))
  })
  for (const [label, value] of [['11 tags', tags(11)], ['a tag of 41 characters', ['t'.repeat(41)]], ['an empty tag', ['ok', '']]] as const) {
    test(`${label}: BAD_USER_INPUT tags, nothing written`, async () => {
      const count = await noteCount()
      assertBadInput(await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', tags: value } } }), 'tags')
      assertBadInput(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { tags: value } } }), 'tags')
      assert.equal(await noteCount(), count)
      const [{ longest }] = await t.database.db.sql`select coalesce(max(char_length(name)), 0)::int as longest from tags`
      assert.ok(longest <= 40)
    })
  }
})

describe('signUp: name 1..100, valid email, password at least 8', () => {
  let counter = 0
  const input = (overrides: Record<string, string>): Record<string, string> =>
    ({ name: 'N', email: `limits-${++counter}@example.test`, password: 'p'.repeat(8), ...overrides })

  test('name of 1 and of 100 characters, password of 8: accepted', async () => {
    for (const name of ['x', 'x'.repeat(100)]) {
      const result = await t.gql(SIGN_UP, { variables: { input: input({ name }) } })
      assertAccepted(result)
      assert.equal(result.body.data.signUp.user.name, name)
    }
  })

  const rejected: Array<[string, Record<string, string>, string]> = [
    ['an empty name', { name: '' }, 'name'],
    ['a blank name (trimmed to nothing)', { name: '   ' }, 'name'],
    ['a name of 101 characters', { name: 'x'.repeat(101) }, 'name'],
    ['a password of 7 characters', { password: 'p'.repeat(7) }, 'password'],
    ['an email without @', { email: 'not-an-email' }, 'email'],
    ['an email without a domain dot', { email: 'a@localhost' }, 'email'],
    ['an email with a space', { email: 'a b@example.test' }, 'email'],
    ['an empty email', { email: '' }, 'email']
  ]
  for (const [label, overrides, field] of rejected) {
    test(`${label}: BAD_USER_INPUT ${field}, no user created`, async () => {
      const [{ before }] = await t.database.db.sql`select count(*)::int as before from users`
      assertBadInput(await t.gql(SIGN_UP, { variables: { input: input(overrides) } }), field)
      const [{ after }] = await t.database.db.sql`select count(*)::int as after from users`
      assert.equal(after, before)
    })
  }
})

describe('updateUser: name 1..100', () => {
  test('1 and 100 characters: accepted', async () => {
    for (const name of ['y', 'y'.repeat(100)]) {
      const result = await t.gql(RENAME, { token: alice.token, variables: { name } })
      assertAccepted(result)
      assert.equal(result.body.data.updateUser.name, name)
    }
  })
  test('empty and 101 characters: BAD_USER_INPUT name, name unchanged', async () => {
    for (const name of ['', 'y'.repeat(101)]) {
      assertBadInput(await t.gql(RENAME, { token: alice.token, variables: { name } }), 'name')
    }
    const me = await t.gql('{ me { name } }', { token: alice.token })
    assert.equal(me.body.data.me.name, 'y'.repeat(100))
  })
})

describe('ids', () => {
  test('a malformed id or after cursor: BAD_USER_INPUT naming it', async () => {
    assertBadInput(await t.gql('{ note(id: "abc") { id } }'), 'id')
    assertBadInput(await t.gql('{ user(id: "-1") { id } }'), 'id')
    assertBadInput(await t.gql('{ notes(after: "1; drop table notes") { id } }'), 'after')
  })
})
