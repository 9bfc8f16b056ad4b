/**
 * Invalidation per mutation and per viewer through the front door, one app (memory tier).
 * invalidation-redis.test.ts runs the same matrix through two instances sharing Redis.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { runScenario, scenarios, SYNC_TIMEOUT_MS, viewersOn, type Viewers } from './invalidation-scenarios.ts'

describe('invalidation, one app (memory tier)', () => {
  let app: TestApp
  let viewers: Viewers
  before(async () => {
    app = await startTestApp({ exposeSqlCount: true })
    viewers = await viewersOn(app)
  })
  after(() => app?.close())

  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      assert.ok(await runScenario(scenario, app, app, viewers) > 0, 'the mutation changed no cached answer: the scenario tests nothing')
    })
  }

  test('a user looked up by id: a rename keeps the answers showing none of their fields; a user created or deleted in SQL drops them', async () => {
    const user = await app.signUp('Looked Up')
    const notesOnly = 'query ($id: ID!) { user(id: $id) { id noteCount notes { id } } }'
    const withName = 'query ($id: ID!) { user(id: $id) { name notes { id } } }'
    const read = async (query: string, id: string) => (await app.gql(query, { variables: { id } })).body
    const primed = async (query: string, id: string): Promise<void> => {
      await read(query, id)
      assert.equal((await read(query, id)).extensions?.sqlStatements, 0, `${query} was not cached`)
    }
    await primed(notesOnly, user.id)
    await primed(withName, user.id)
    const renamed = await app.gql('mutation { updateUser(input: { name: "Renamed" }) { name } }', { token: user.token })
    assert.equal(renamed.body.data?.updateUser.name, 'Renamed', JSON.stringify(renamed.body))
    const kept = await read(notesOnly, user.id)
    assert.equal(kept.extensions?.sqlStatements, 0, 'the rename dropped an answer that shows no field of the user')
    assert.deepEqual(kept.data, { user: { id: user.id, noteCount: 0, notes: [] } })
    const shown = await read(withName, user.id)
    assert.deepEqual([shown.data, Number(shown.extensions?.sqlStatements) > 0], [{ user: { name: 'Renamed', notes: [] } }, true], 'the answer showing the name was dropped')

    const sql = app.database.db.sql
    const id = '900001'
    await primed(notesOnly, id)
    assert.deepEqual((await read(notesOnly, id)).data, { user: null })
    await sql`insert into users (id, name, email, password_hash) overriding system value values (${id}, 'Made in SQL', 'made@sql.test', 'x')`
    await app.app.responseCache!.bus.sync(SYNC_TIMEOUT_MS)
    assert.deepEqual((await read(notesOnly, id)).data, { user: { id, noteCount: 0, notes: [] } }, 'a cached "no such user" outlived the user\'s creation')
    await primed(notesOnly, id)
    await sql`delete from users where id = ${id}`
    await app.app.responseCache!.bus.sync(SYNC_TIMEOUT_MS)
    assert.deepEqual((await read(notesOnly, id)).data, { user: null }, 'a deleted user\'s answer outlived the deletion')
  })
})
