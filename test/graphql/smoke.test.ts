import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
before(async () => { t = await startTestApp() })
after(() => t.close())

test('a signed-up user creates a private note that only they see', async () => {
  const alice = await t.signUp('Alice')
  const bob = await t.signUp('Bob')
  const created = await t.gql('mutation { createNote(input: { title: "secret", tags: ["a", "b"] }) { id visibility tags { name } } }', { token: alice.token })
  assert.equal(created.status, 200)
  assert.deepEqual(created.body.data.createNote.tags.map((tag: { name: string }) => tag.name), ['a', 'b'])
  const id = created.body.data.createNote.id
  const asAlice = await t.gql('query ($id: ID!) { note(id: $id) { title author { name email } } }', { token: alice.token, variables: { id } })
  assert.deepEqual(asAlice.body.data.note, { title: 'secret', author: { name: 'Alice', email: alice.email } })
  const asBob = await t.gql('query ($id: ID!) { note(id: $id) { title } }', { token: bob.token, variables: { id } })
  assert.equal(asBob.body.data.note, null)
})
