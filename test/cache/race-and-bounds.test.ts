/**
 * The two properties that are hard to see from outside, forced from outside: a response whose
 * execution overlapped an invalidation of its tags is not stored (the interleaving is forced
 * by holding the query between execution and store), and the memory tier stays within
 * CACHE_MAX_BYTES under a flood of distinct large responses. Plus cache warming.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/database.ts'

const sqlOf = (result: { body: { extensions?: Record<string, unknown> } }): number => result.body.extensions?.sqlStatements as number

describe('race: execution overlapping an invalidation', () => {
  let t: TestApp
  let author: { id: string, token: string }
  let noteId: string
  let hold: Promise<void> | undefined
  let reachedHold: () => void = () => {}

  before(async () => {
    t = await startTestApp({ exposeSqlCount: true })
    // Runs after the cache's own onResolution and before onSend (the store): the query has
    // read its data; a mutation now makes that data stale before it is written to the cache.
    t.app.graphql.addHook('onResolution', async (_execution, context) => {
      const request = (context as unknown as { reply: { request: { body: { operationName?: string } } } }).reply.request
      if (request.body.operationName === 'Held' && hold) {
        reachedHold()
        await hold
      }
    })
    author = await t.signUp('Author')
    const created = await t.gql('mutation { createNote(input: { title: "v1", visibility: PUBLIC }) { id } }', { token: author.token })
    noteId = created.body.data.createNote.id
  })
  after(() => t?.close())

  async function heldRead (mutateMeanwhile: boolean): Promise<void> {
    let release: () => void = () => {}
    hold = new Promise((resolve) => { release = resolve })
    const reached = new Promise<void>((resolve) => { reachedHold = resolve })
    const reading = t.gql('query Held($id: ID!) { note(id: $id) { title } }', { operationName: 'Held', variables: { id: noteId } })
    await reached
    if (mutateMeanwhile) {
      await t.gql('mutation ($id: ID!) { updateNote(id: $id, input: { title: "v2" }) { id } }', { token: author.token, variables: { id: noteId } })
    }
    release()
    await reading
    hold = undefined
  }

  test('without an invalidation in between, the held response is stored (control)', async () => {
    await heldRead(false)
    const again = await t.gql('query Held($id: ID!) { note(id: $id) { title } }', { operationName: 'Held', variables: { id: noteId } })
    assert.equal(sqlOf(again), 0)
  })

  test('with an invalidation of its tag in between, the stale response is not stored', async () => {
    await t.gql('mutation ($id: ID!) { updateNote(id: $id, input: { title: "v1" }) { id } }', { token: author.token, variables: { id: noteId } })
    await heldRead(true)
    const after = await t.gql('query Held($id: ID!) { note(id: $id) { title } }', { operationName: 'Held', variables: { id: noteId } })
    assert.equal(after.body.data.note.title, 'v2')
    assert.ok(sqlOf(after) > 0)
    const skips = await t.app.responseCache!.cache.metrics.skips.get()
    assert.ok((skips.values.find((v) => v.labels.reason === 'race')?.value ?? 0) >= 1)
  })
})

describe('byte bound', () => {
  const maxBytes = 64 * 1024
  let t: TestApp
  before(async () => {
    t = await startTestApp({ exposeSqlCount: true, cacheMaxBytes: maxBytes })
    const user = await t.signUp('Writer')
    const body = 'x'.repeat(4000)
    for (let i = 0; i < 3; i++) await t.gql('mutation ($body: String) { createNote(input: { title: "big", body: $body, visibility: PUBLIC }) { id } }', { token: user.token, variables: { body } })
  })
  after(() => t?.close())

  test('a flood of distinct ~12 KB responses never holds more than CACHE_MAX_BYTES', async () => {
    const { cache } = t.app.responseCache!
    for (let i = 0; i < 60; i++) {
      const result = await t.gql(`{ notes { id body } n${i}: __typename }`)
      assert.equal(result.body.data.notes.length, 3)
      const bytes = (await cache.metrics.bytes.get()).values[0].value
      assert.ok(bytes <= maxBytes, `held ${bytes} bytes > ${maxBytes}`)
    }
    const evictions = (await cache.metrics.evictions.get()).values[0].value
    assert.ok(evictions >= 50, `expected the bound to push entries out, evictions=${evictions}`)
    // The most recent entries are still there: the bound evicts, it does not stop caching.
    assert.equal(sqlOf(await t.gql('{ notes { id body } n59: __typename }')), 0)
  })
})

describe('warming', () => {
  let t: TestApp
  let user: { id: string, token: string }
  const warmDirs: string[] = []
  const warmFile = (name: string): string => join(warmDirs[warmDirs.push(mkdtempSync(join(tmpdir(), 'jotter-warm-'))) - 1], name)
  before(async () => {
    const file = warmFile('warm.json')
    writeFileSync(file, JSON.stringify([{ query: 'query Front { notes(first: 5) { id title } }', operationName: 'Front' }]))
    t = await startTestApp({ exposeSqlCount: true, cacheWarmFile: file })
    user = await t.signUp('Warm')
  })
  after(async () => {
    await t?.close()
    for (const dir of warmDirs) rmSync(dir, { recursive: true, force: true })
  })

  test('the warm list is a hit from the first request, and again after an invalidation', async () => {
    await t.app.ready()
    await t.app.responseCache!.warmer.idle()
    const first = await t.gql('query Front { notes(first: 5) { id title } }', { operationName: 'Front' })
    assert.equal(sqlOf(first), 0)
    await t.gql('mutation { createNote(input: { title: "fresh", visibility: PUBLIC }) { id } }', { token: user.token })
    await t.app.responseCache!.warmer.idle()
    const rewarmed = await t.gql('query Front { notes(first: 5) { id title } }', { operationName: 'Front' })
    assert.equal(sqlOf(rewarmed), 0)
    assert.deepEqual(rewarmed.body.data.notes.map((n: { title: string }) => n.title), ['fresh'])
  })

  test('a bad warm file stops the app with a message naming it', async () => {
    const file = warmFile('bad.json')
    writeFileSync(file, JSON.stringify([{ variables: {} }]))
    const database = await createTestDatabase()
    try {
      await assert.rejects(startTestApp({ cacheWarmFile: file }, { database }), /CACHE_WARM_FILE entry 0 must be/)
    } finally {
      await database.drop()
    }
  })
})
