/**
 * Round trips to PostgreSQL per write, as the load generator's write mix sends them, with both
 * caches off: createNote (note, new and existing tags, links) is one statement
 * (jotter_create_note, migrations/003) and updateUser one UPDATE, neither in BEGIN … COMMIT
 * (the gateway counts those as two more). Each request also reads its viewer's row (the role
 * and existence of the token's user, src/auth/viewer-from-row.ts), and `author { id }` reads
 * the author through the loader.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { WRITE_QUERIES } from '../../bench/load/write-planner.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let alice: { id: string, token: string }

before(async () => {
  t = await startTestApp({ exposeSqlCount: true, cacheEnabled: false })
  alice = await t.signUp('Alice')
})
after(() => t.close())

test('createNote with tags new and known is the viewer, one statement, and the author', async () => {
  const first = await t.gql(WRITE_QUERIES.createNote, { token: alice.token, variables: { input: { title: 'one', tags: ['alpha', 'beta'] } } })
  assert.deepEqual(first.body.data.createNote.tags, [{ name: 'alpha' }, { name: 'beta' }], JSON.stringify(first.body))
  assert.equal(first.body.extensions?.sqlStatements, 3)
  // Overlapping tags: one known, one new, in another order.
  const second = await t.gql(WRITE_QUERIES.createNote, { token: alice.token, variables: { input: { title: 'two', tags: ['gamma', 'alpha'] } } })
  assert.deepEqual(second.body.data.createNote.tags, [{ name: 'gamma' }, { name: 'alpha' }], JSON.stringify(second.body))
  assert.equal(second.body.extensions?.sqlStatements, 3)
})

test('updateUser is the viewer and one statement', async () => {
  const result = await t.gql(WRITE_QUERIES.updateUser, { token: alice.token, variables: { input: { name: 'Alice B' } } })
  assert.deepEqual(result.body.data.updateUser, { id: alice.id, name: 'Alice B' })
  assert.equal(result.body.extensions?.sqlStatements, 2)
})
