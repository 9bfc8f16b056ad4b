/**
 * Lists: ordered by id ascending, `after` = the last id seen, `first` 0..100 on every list
 * (notes, users, tags, User.notes, Tag.notes); -1 and 101 are BAD_USER_INPUT naming `first`.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let alice: { id: string, token: string }
let noteIds: string[] = []
let tagIds: string[] = []
const NOTES = 103 // more than one page of 100
const TAGS = 103

before(async () => {
  t = await startTestApp()
  alice = await t.signUp('Alice')
  // Bulk rows straight into the database: the mutations are tested elsewhere, and 100+ of
  // them through GraphQL would only slow this file down.
  const sql = t.database.db.sql
  noteIds = (await sql`insert into notes (author_id, title, visibility)
    select ${alice.id}, 'note ' || i, 'PUBLIC' from generate_series(1, ${NOTES}) i returning id`).map((row) => row.id as string)
  tagIds = (await sql`insert into tags (name) select 'tag-' || lpad(i::text, 3, '0') from generate_series(1, ${TAGS}) i returning id`)
    .map((row) => row.id as string)
  // Every tag on the first note, and the first tag on every note.
  await sql`insert into note_tags (note_id, tag_id) select ${noteIds[0]}, unnest(${tagIds}::bigint[])`
  await sql`insert into note_tags (note_id, tag_id) select unnest(${noteIds.slice(1)}::bigint[]), ${tagIds[0]}`
  await sql`insert into users (name, email, password_hash)
    select 'User ' || i, 'paging-' || i || '@example.test', 'not-a-hash' from generate_series(1, 102) i`
})
after(() => t.close())

/** The list each query answers, read from its data. */
const lists: Array<{ name: string, query: (args: string) => string, pick: (data: any) => Array<{ id: string }>, all: () => Promise<string[]> }> = [
  { name: 'notes', query: (args) => `{ notes${args} { id } }`, pick: (data) => data.notes, all: async () => noteIds },
  { name: 'users', query: (args) => `{ users${args} { id } }`, pick: (data) => data.users, all: allUserIds },
  { name: 'tags', query: (args) => `{ tags${args} { id } }`, pick: (data) => data.tags, all: async () => tagIds },
  { name: 'User.notes', query: (args) => `{ me { notes${args} { id } } }`, pick: (data) => data.me.notes, all: async () => noteIds },
  { name: 'Tag.notes', query: (args) => `{ tag(name: "tag-001") { notes${args} { id } } }`, pick: (data) => data.tag.notes, all: async () => noteIds }
]

async function allUserIds (): Promise<string[]> {
  return (await t.database.db.sql`select id from users order by id`).map((row) => row.id as string)
}

async function page (list: typeof lists[number], args: string): Promise<string[]> {
  const result = await t.gql(list.query(args), { token: alice.token })
  assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors))
  return list.pick(result.body.data).map((row) => row.id)
}

for (const list of lists) {
  describe(list.name, () => {
    test('first: 100 answers 100 rows in id order; `after` the last id continues without gaps or repeats', async () => {
      const expected = await list.all()
      assert.ok(expected.length > 100, `fixture has ${expected.length} rows`)
      const first = await page(list, '(first: 100)')
      assert.deepEqual(first, expected.slice(0, 100))
      const rest = await page(list, `(first: 100, after: "${first[99]}")`)
      assert.deepEqual(rest, expected.slice(100))
      const small = await page(list, `(first: 2, after: "${expected[4]}")`)
      assert.deepEqual(small, expected.slice(5, 7))
      assert.deepEqual(await page(list, `(after: "${expected.at(-1)}")`), [], 'after the last id: empty')
    })

    test('first: 0 answers an empty list', async () => {
      assert.deepEqual(await page(list, '(first: 0)'), [])
    })

    for (const bad of [-1, 101]) {
      test(`first: ${bad} → BAD_USER_INPUT naming first`, async () => {
        const result = await t.gql(list.query(`(first: ${bad})`), { token: alice.token })
        assert.equal(result.status, 200)
        const error = result.body.errors?.[0]
        assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(result.body))
        assert.equal(error?.extensions?.field, 'first')
        assert.match(error!.message, new RegExp(`${bad}`), 'the message shows the value got')
      })
    }
  })
}

describe('defaults', () => {
  test('notes, users and User.notes default to 20 rows; tags to 50', async () => {
    const result = await t.gql('{ notes { id } users { id } tags { id } me { notes { id } } }', { token: alice.token })
    assert.equal(result.body.data.notes.length, 20)
    assert.equal(result.body.data.users.length, 20)
    assert.equal(result.body.data.tags.length, 50)
    assert.equal(result.body.data.me.notes.length, 20)
  })
})
