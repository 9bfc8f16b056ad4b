/**
 * The response cache through the front door (memory tier): hits answer without SQL, keys
 * ignore formatting but not meaning, what must never be stored is not, HTTP caching headers,
 * and isolation between viewers. `extensions.sqlStatements` (EXPOSE_SQL_COUNT) tells a hit
 * (0 statements) from an execution.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parse, print } from 'graphql'
import { createHash } from 'node:crypto'
import { responseCacheKey } from '../../src/responses/cache-key.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

const sqlOf = (result: { body: { extensions?: Record<string, unknown> } }): number => result.body.extensions?.sqlStatements as number

describe('response cache', () => {
  let t: TestApp
  let alice: { id: string, token: string }
  let bob: { id: string, token: string }
  let publicNoteId: string

  before(async () => {
    t = await startTestApp({ exposeSqlCount: true })
    alice = await t.signUp('Alice')
    bob = await t.signUp('Bob')
    const created = await t.gql('mutation { createNote(input: { title: "hello", visibility: PUBLIC, tags: ["a"] }) { id } }', { token: alice.token })
    publicNoteId = created.body.data.createNote.id
    await t.gql('mutation { createNote(input: { title: "alice only" }) { id } }', { token: alice.token })
  })
  after(() => t?.close())

  test('a marker naming a question this code does not ask (another version\'s) is computed over, not a 500', async () => {
    const query = '{ users(first: 2) { id name } }'
    const documentHash = createHash('sha256').update(print(parse(query))).digest('base64url')
    const { cache } = t.app.responseCache!
    const marked = await cache.store(responseCacheKey(documentHash, null, undefined), '', '', ['users'], 60_000, cache.ticket(), ['question-of-another-version'])
    assert.equal(marked, 'stored')
    for (const token of [undefined, alice.token]) {
      const answer = await t.gql(query, { token })
      assert.equal(answer.status, 200, JSON.stringify(answer.body))
      assert.equal(answer.body.data.users.length, 2)
    }
    const again = await t.gql(query)
    assert.equal(sqlOf(again), 0, 'the computed answer took the foreign marker\'s place')
  })

  test('a repeated query is answered from the cache: same bytes, no SQL', async () => {
    const query = 'query Notes { notes { id title } }'
    const first = await t.gql(query, { token: alice.token })
    const second = await t.gql(query, { token: alice.token })
    assert.ok(sqlOf(first) > 0)
    assert.equal(sqlOf(second), 0)
    assert.deepEqual(second.body.data, first.body.data)
    assert.equal(second.headers['content-type'], 'application/json; charset=utf-8')
  })

  test('whitespace, comments and the order of variable keys do not matter; values do', async () => {
    const query = 'query ($id: ID!, $x: Int) { note(id: $id) { id title } notes(first: $x) { id } }'
    const miss = await t.gql(query, { variables: { id: publicNoteId, x: 1 } })
    assert.ok(sqlOf(miss) > 0)
    const reformatted = await t.gql('# a comment\nquery ($id: ID!,   $x: Int)\n{\n  note(id: $id) { id\n title }\n notes(first: $x) { id } }', { variables: { x: 1, id: publicNoteId } })
    assert.equal(sqlOf(reformatted), 0)
    const otherValue = await t.gql(query, { variables: { id: publicNoteId, x: 2 } })
    assert.ok(sqlOf(otherValue) > 0, 'different variable values must be a different entry')
  })

  test('the operation name is part of the key', async () => {
    // `notes` pages are read with SQL on every execution (users windows are shared rows).
    const query = 'query A { notes { id } } query B { notes { id title } }'
    const a = await t.gql(query, { operationName: 'A' })
    const b = await t.gql(query, { operationName: 'B' })
    assert.ok(sqlOf(b) > 0)
    assert.notDeepEqual(a.body.data, b.body.data)
    assert.equal(sqlOf(await t.gql(query, { operationName: 'A' })), 0)
  })

  test('Cache-Control: no-cache skips the lookup and the store', async () => {
    const query = '{ notes { id title } }'
    const bypassed = await t.gql(query, { headers: { 'cache-control': 'no-cache' } })
    assert.ok(sqlOf(bypassed) > 0)
    const afterBypass = await t.gql(query)
    assert.ok(sqlOf(afterBypass) > 0, 'a no-cache response must not have been stored')
    assert.equal(sqlOf(await t.gql(query)), 0)
    assert.ok(sqlOf(await t.gql(query, { headers: { 'cache-control': 'no-cache' } })) > 0, 'no-cache must not read a cached entry')
  })

  test('responses with errors are never stored', async () => {
    const query = 'query ($id: ID!) { note(id: $id) { id } }'
    const bad = await t.gql(query, { variables: { id: 'not-a-number' } })
    assert.equal(bad.body.errors?.[0].extensions?.code, 'BAD_USER_INPUT')
    const again = await t.gql(query, { variables: { id: 'not-a-number' } })
    assert.equal(again.body.errors?.[0].extensions?.code, 'BAD_USER_INPUT')
    assert.equal(again.headers.etag, undefined, 'an error response must not be stored (only stored responses get an ETag)')
    const skips = await t.app.responseCache!.cache.metrics.skips.get()
    assert.ok((skips.values.find((v) => v.labels.reason === 'errors')?.value ?? 0) >= 2)
  })

  test('a mutation is never answered from the cache', async () => {
    const mutation = 'mutation { createNote(input: { title: "twice" }) { id } }'
    const one = await t.gql(mutation, { token: bob.token })
    const two = await t.gql(mutation, { token: bob.token })
    assert.notEqual(one.body.data.createNote.id, two.body.data.createNote.id)
    assert.equal(two.headers.etag, undefined)
  })

  test('ETag on cacheable responses; If-None-Match with it answers 304, with another 200', async () => {
    const query = '{ tags { name } }'
    const first = await t.gql(query)
    const etag = first.headers.etag as string
    assert.match(etag, /^"[\w-]+"$/)
    const response = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', 'if-none-match': etag }, payload: JSON.stringify({ query }) })
    assert.equal(response.statusCode, 304)
    assert.equal(response.body, '')
    const changed = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', 'if-none-match': '"other"' }, payload: JSON.stringify({ query }) })
    assert.equal(changed.statusCode, 200)
    assert.deepEqual(changed.json().data, first.body.data)
  })

  test('authenticated responses are private, no-store and vary on Authorization', async () => {
    const signedIn = await t.gql('{ me { id } }', { token: alice.token })
    assert.equal(signedIn.headers['cache-control'], 'private, no-store')
    assert.equal(signedIn.headers.vary, 'Authorization')
    const anonymous = await t.gql('{ me { id } }')
    assert.equal(anonymous.headers['cache-control'], 'no-cache')
    assert.equal(anonymous.headers.vary, 'Authorization')
  })

  test('one user never gets another user\'s cached answer', async () => {
    const query = '{ me { id email } notes { id title } }'
    const forAlice = await t.gql(query, { token: alice.token })
    const forBob = await t.gql(query, { token: bob.token })
    assert.equal(forBob.body.data.me.id, bob.id)
    assert.ok(sqlOf(forBob) > 0, 'Bob must not hit Alice\'s entry')
    assert.ok(forAlice.body.data.notes.some((n: { title: string }) => n.title === 'alice only'))
    assert.ok(!forBob.body.data.notes.some((n: { title: string }) => n.title === 'alice only'))
    const anonymous = await t.gql(query)
    assert.equal(anonymous.body.data.me, null)
    assert.ok(sqlOf(anonymous) > 0)
  })

  test('the role is part of the scope: the same id as admin is another entry', async () => {
    const carol = await t.signUp('Carol')
    const query = '{ users(first: 100) { id email } }'
    const asUser = await t.gql(query, { token: carol.token })
    assert.equal(asUser.body.data.users.filter((u: { email: string | null }) => u.email !== null).length, 1)
    const adminToken = await t.promoteToAdmin(carol.id)
    const asAdmin = await t.gql(query, { token: adminToken })
    assert.ok(sqlOf(asAdmin) > 0)
    assert.ok(asAdmin.body.data.users.every((u: { email: string | null }) => u.email !== null))
  })

  test('anonymous viewers share one scope', async () => {
    const query = 'query Shared { notes { id } }'
    await t.gql(query)
    assert.equal(sqlOf(await t.gql(query)), 0)
  })
})

describe('TTL', () => {
  let t: TestApp
  before(async () => {
    t = await startTestApp({ exposeSqlCount: true, cacheTtlMs: 60_000, cacheTtlByType: { User: 0 } })
    const user = await t.signUp('Dora')
    await t.gql('mutation { createNote(input: { title: "n", visibility: PUBLIC }) { id } }', { token: user.token })
  })
  after(() => t?.close())

  test('a response holding a type whose TTL is 0 is not cached; one without it is', async () => {
    const withUsers = '{ notes { id author { name } } }'
    await t.gql(withUsers)
    assert.ok(sqlOf(await t.gql(withUsers)) > 0)
    const notesOnly = '{ notes { id title } }'
    await t.gql(notesOnly)
    assert.equal(sqlOf(await t.gql(notesOnly)), 0)
  })
})

describe('TTL expiry and CACHE_TTL_MS=0', () => {
  test('an entry expires after its TTL', async () => {
    // Long enough that a pause of the machine between the two reads does not expire it first.
    const t = await startTestApp({ exposeSqlCount: true, cacheTtlMs: 1000 })
    try {
      await t.gql('{ notes { id } }')
      assert.equal(sqlOf(await t.gql('{ notes { id } }')), 0)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      assert.ok(sqlOf(await t.gql('{ notes { id } }')) > 0)
    } finally {
      await t.close()
    }
  })

  test('CACHE_TTL_MS=0 caches nothing', async () => {
    const t = await startTestApp({ exposeSqlCount: true, cacheTtlMs: 0 })
    try {
      await t.gql('{ notes { id } }')
      assert.ok(sqlOf(await t.gql('{ notes { id } }')) > 0)
    } finally {
      await t.close()
    }
  })
})
