/**
 * Every input limit on both sides: the value at the limit is accepted, one past it is the
 * catalogue's BAD_USER_INPUT error naming the field, and nothing is written.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { ErrorName } from '../../src/errors.ts'
import { startTestApp, type GraphQLResult, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

let t: TestApp
let alice: { id: string, token: string, email: string }
let noteId: string

const CREATE = 'mutation ($input: CreateNoteInput!) { createNote(input: $input) { id title tags { name } } }'
const UPDATE = 'mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }'
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { id name } } }'
const RENAME = 'mutation ($name: String) { updateUser(input: { name: $name }) { name } }'
const LOGIN = 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }'

function assertAccepted (result: GraphQLResult): void {
  assert.equal(result.status, 200)
  assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors))
}

/** The catalogue's error `name` (whose message and extensions name the field) for this field. */
function assertBadInput (result: GraphQLResult, name: ErrorName, values: Record<string, unknown>): void {
  assert.equal(result.status, 200)
  assertCatalogueError(name, result, values)
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
      const error = { field: 'title', min: 1, max: 200, got: title.length }
      assertBadInput(await t.gql(CREATE, { token: alice.token, variables: { input: { title } } }), 'TEXT_LENGTH', error)
      assertBadInput(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { title } } }), 'TEXT_LENGTH', error)
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
    const error = { field: 'body', max: limit, got: limit + 1 }
    assertBadInput(await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', body: 'b'.repeat(limit + 1) } } }), 'BODY_TOO_LARGE', error)
    assertBadInput(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { body: 'é'.repeat(limit / 2 - 1) + 'bbb' } } }), 'BODY_TOO_LARGE', error)
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
  const rejected: Array<[string, string[], ErrorName, Record<string, unknown>]> = [
    ['11 tags', tags(11), 'TOO_MANY_TAGS', { field: 'tags', max: 10, got: 11 }],
    ['a tag of 41 characters', ['t'.repeat(41)], 'TEXT_LENGTH', { field: 'tags', min: 1, max: 40, got: 41 }],
    ['an empty tag', ['ok', ''], 'TEXT_LENGTH', { field: 'tags', min: 1, max: 40, got: 0 }]
  ]
  for (const [label, value, name, error] of rejected) {
    test(`${label}: BAD_USER_INPUT tags, nothing written`, async () => {
      const count = await noteCount()
      assertBadInput(await t.gql(CREATE, { token: alice.token, variables: { input: { title: 't', tags: value } } }), name, error)
      assertBadInput(await t.gql(UPDATE, { token: alice.token, variables: { id: noteId, input: { tags: value } } }), name, error)
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

  const emailOf = (length: number): string => `${'e'.repeat(length - '@example.test'.length)}@example.test`
  test('an email of 254 characters: accepted by signUp, and looked up by login', async () => {
    const email = emailOf(254)
    assertAccepted(await t.gql(SIGN_UP, { variables: { input: input({ email }) } }))
    assertAccepted(await t.gql(LOGIN, { variables: { email, password: 'p'.repeat(8) } }))
  })

  const nameLength = { field: 'name', min: 1, max: 100 }
  const rejected: Array<[string, Record<string, string>, ErrorName, Record<string, unknown>]> = [
    ['an empty name', { name: '' }, 'TEXT_LENGTH', { ...nameLength, got: 0 }],
    ['a blank name (trimmed to nothing)', { name: '   ' }, 'TEXT_LENGTH', { ...nameLength, got: 0 }],
    ['a name of 101 characters', { name: 'x'.repeat(101) }, 'TEXT_LENGTH', { ...nameLength, got: 101 }],
    ['a password of 7 characters', { password: 'p'.repeat(7) }, 'TEXT_LENGTH', { field: 'password', min: 8, max: 1024, got: 7 }],
    ['an email without @', { email: 'not-an-email' }, 'EMAIL_INVALID', { field: 'email' }],
    ['an email without a domain dot', { email: 'a@localhost' }, 'EMAIL_INVALID', { field: 'email' }],
    ['an email with a space', { email: 'a b@example.test' }, 'EMAIL_INVALID', { field: 'email' }],
    ['an empty email', { email: '' }, 'EMAIL_INVALID', { field: 'email' }],
    ['an email of 255 characters', { email: emailOf(255) }, 'EMAIL_INVALID', { field: 'email' }]
  ]
  for (const [label, overrides, name, error] of rejected) {
    test(`${label}: ${name} ${error.field}, no user created`, async () => {
      const [{ before }] = await t.database.db.sql`select count(*)::int as before from users`
      assertBadInput(await t.gql(SIGN_UP, { variables: { input: input(overrides) } }), name, error)
      const [{ after }] = await t.database.db.sql`select count(*)::int as after from users`
      assert.equal(after, before)
    })
  }

  test('login with an email of 255 characters: EMAIL_TOO_LONG', async () => {
    assertBadInput(await t.gql(LOGIN, { variables: { email: emailOf(255), password: 'p'.repeat(8) } }), 'EMAIL_TOO_LONG', { field: 'email', max: 254 })
  })
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
      assertBadInput(await t.gql(RENAME, { token: alice.token, variables: { name } }), 'TEXT_LENGTH', { field: 'name', min: 1, max: 100, got: name.length })
    }
    const me = await t.gql('{ me { name } }', { token: alice.token })
    assert.equal(me.body.data.me.name, 'y'.repeat(100))
  })
})

describe('ids', () => {
  test('a malformed id or after cursor: BAD_USER_INPUT naming it', async () => {
    assertBadInput(await t.gql('{ note(id: "abc") { id } }'), 'ID_MALFORMED', { field: 'id', got: 'abc' })
    assertBadInput(await t.gql('{ user(id: "-1") { id } }'), 'ID_MALFORMED', { field: 'id', got: '-1' })
    assertBadInput(await t.gql('{ notes(after: "1; drop table notes") { id } }'), 'ID_MALFORMED', { field: 'after', got: '1; drop table notes' })
  })
})
