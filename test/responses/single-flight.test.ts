/**
 * Concurrent identical misses compute once per process: the first request of a key executes,
 * the others wait for its store and then look again — a hit when they answer the entry's
 * questions alike, a computation of their own (again once per key) when they do not.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { metricSum } from '../helpers/metrics.ts'

describe('single flight per key', () => {
  let app: TestApp
  let author: { id: string, token: string }
  let others: Array<{ id: string, token: string }>
  let admin: string
  let privateNoteId: string

  before(async () => {
    app = await startTestApp({ exposeSqlCount: true })
    author = await app.signUp('Author')
    others = []
    for (let index = 0; index < 6; index++) others.push(await app.signUp(`Other ${index}`))
    const adminUser = await app.signUp('Admin')
    admin = await app.promoteToAdmin(adminUser.id)
    const created = await app.gql('mutation { createNote(input: { title: "secret", visibility: PRIVATE }) { id } }', { token: author.token })
    privateNoteId = created.body.data.createNote.id
  })
  after(async () => { await app?.close() })

  test('eight identical cold requests at once: one executes, seven wait and hit', async () => {
    const before = await counters()
    const answers = await Promise.all(Array.from({ length: 8 }, () => app.gql('{ users(first: 5) { id name } }')))
    const after = await counters()
    for (const answer of answers) assert.deepEqual(answer.body.data, answers[0].body.data)
    assert.equal(after.misses - before.misses, 1, JSON.stringify({ before, after }))
    assert.equal(after.waits - before.waits, 7)
    assert.equal(after.hits - before.hits, 7)
    assert.equal(answers.filter((answer) => (answer.body.extensions?.sqlStatements as number) > 0).length <= 1, true, 'only the one execution ran SQL')
  })

  test('viewers who answer the entry\'s question alike share the one computation; the others compute once more', async () => {
    const query = `{ note(id: "${privateNoteId}") { id title } }`
    const before = await counters()
    // Six viewers who are not the author (all:<author> = 0) and the author and an admin (= 1).
    const answers = await Promise.all([...others.map((other) => app.gql(query, { token: other.token })), app.gql(query, { token: author.token }), app.gql(query, { token: admin })])
    const after = await counters()
    for (const answer of answers.slice(0, 6)) assert.equal(answer.body.data.note, null)
    for (const answer of answers.slice(6)) assert.deepEqual(answer.body.data.note, { id: privateNoteId, title: 'secret' })
    // One execution for the key, then at most one more for the viewers whose answer differs.
    const executions = after.misses - before.misses
    assert.ok(executions >= 1 && executions <= 2, JSON.stringify({ before, after }))
    // Each of the other six either waited for one of those and hit, or came after it and hit.
    assert.equal(after.hits - before.hits, 8 - executions, JSON.stringify({ before, after }))
  })

  async function counters (): Promise<{ hits: number, misses: number, waits: number }> {
    const text = (await app.app.inject({ method: 'GET', url: '/metrics' })).body
    return { hits: metricSum(text, 'jotter_cache_hits_total'), misses: metricSum(text, 'jotter_cache_misses_total'), waits: metricSum(text, 'jotter_cache_inflight_waits_total') }
  }
})
