/**
 * Persisted queries through the HTTP API: automatic persisted queries (an unknown hash, a
 * registration, a mismatch, GET and POST, the query limits and the store's bound, each limit
 * on both sides), the response cache for hash-only requests, trusted documents (both manifest
 * formats, refusals before parsing, one compile per document, what stops the start), the
 * metrics and the log line, and the store shared through Redis (skipped without TEST_REDIS_URL).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { Redis } from 'ioredis'
import { ConfigError } from '../../src/config.ts'
import type { ErrorName } from '../../src/errors.ts'
import { ENTRY_OVERHEAD_BYTES } from '../../src/http/persisted-query-store.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'
import { metricSum } from '../helpers/metrics.ts'

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')
const persisted = (query: string, hash = sha256(query)) => ({ persistedQuery: { version: 1, sha256Hash: hash } })

let database: TestDatabase
const files = mkdtempSync(join(tmpdir(), 'jotter-test-manifests-'))
before(async () => { database = await createTestDatabase() })
after(async () => {
  await database?.drop()
  rmSync(files, { recursive: true, force: true })
})

function post (t: TestApp, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })
}

function get (t: TestApp, parameters: Record<string, unknown>): Promise<LightMyRequestResponse> {
  const query = Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]))
  return t.app.inject({ method: 'GET', url: '/graphql', query })
}

/** The catalogue's error `name` for the whole request: nothing ran. */
function assertError (response: LightMyRequestResponse, name: ErrorName, values?: Record<string, unknown>): void {
  const body = response.json()
  assert.equal(body.data, undefined, 'nothing ran: no data entry')
  assertCatalogueError(name, { status: response.statusCode, body }, values)
}

const HASH_MISMATCH = { field: 'extensions.persistedQuery.sha256Hash' }

function assertData (response: LightMyRequestResponse): Record<string, unknown> {
  assert.equal(response.statusCode, 200, response.body)
  const body = response.json()
  assert.equal(body.errors, undefined, response.body)
  return body.data
}

async function metricsText (t: TestApp): Promise<string> {
  return (await t.app.inject({ url: '/metrics' })).body
}

async function usersCount (): Promise<number> {
  const [{ count }] = await database.db.sql`select count(*)::int as count from users`
  return count
}

describe('automatic persisted queries', () => {
  let t: TestApp
  const logLines: Array<Record<string, any>> = []
  before(async () => {
    t = await startTestApp({ exposeSqlCount: true, maxDepth: 3, maxAliases: 2, maxCost: 100, logLevel: 'info' },
      { database, logDestination: { write: (line: string) => { logLines.push(JSON.parse(line)) } } })
    await t.signUp('Persisted Pat')
  })
  after(() => t?.close())

  test('an unknown hash alone → 400 PERSISTED_QUERY_NOT_FOUND, over POST and GET, counted', async () => {
    const query = '{ users(first: 1) { id } } # never sent'
    const before = metricSum(await metricsText(t), 'jotter_persisted_queries_refused_total', { reason: 'not_found' })
    assertError(await post(t, { extensions: persisted(query) }), 'PERSISTED_QUERY_UNKNOWN')
    assertError(await get(t, { extensions: persisted(query) }), 'PERSISTED_QUERY_UNKNOWN')
    const after = metricSum(await metricsText(t), 'jotter_persisted_queries_refused_total', { reason: 'not_found' })
    assert.equal(after - before, 2)
  })

  test('hash + document runs and stores it; the hash alone then runs over POST and over GET', async () => {
    const query = 'query PersistedUsers { users(first: 2) { name } }'
    const registered = assertData(await post(t, { query, extensions: persisted(query) }))
    assert.deepEqual(registered, { users: [{ name: 'Persisted Pat' }] })
    assert.deepEqual(assertData(await post(t, { extensions: persisted(query) })), registered)
    assert.deepEqual(assertData(await get(t, { extensions: persisted(query) })), registered)
  })

  test('a hash that is not the document\'s → 400 BAD_USER_INPUT; nothing stored under either hash, nothing run', async () => {
    const query = '{ users(first: 3) { id name } }'
    const other = '{ users(first: 4) { id } }'
    const users = await usersCount()
    const mismatch = await post(t, { query, extensions: persisted(query, sha256(other)) })
    assertError(mismatch, 'PERSISTED_QUERY_HASH_MISMATCH', HASH_MISMATCH)
    assert.match(mismatch.json().errors[0].message, /sha256Hash/)
    assertError(await post(t, { extensions: persisted(other) }), 'PERSISTED_QUERY_UNKNOWN')
    assertError(await post(t, { extensions: persisted(query) }), 'PERSISTED_QUERY_UNKNOWN')
    // A mutation under a wrong hash does not run either.
    const mutation = 'mutation { signUp(input: { name: "Mismatch", email: "mismatch@example.test", password: "password1" }) { token } }'
    assertError(await post(t, { query: mutation, extensions: persisted(mutation, sha256(other)) }), 'PERSISTED_QUERY_HASH_MISMATCH', HASH_MISMATCH)
    assert.equal(await usersCount(), users)
  })

  test('a malformed persistedQuery → 400 BAD_REQUEST (version, hash, shape)', async () => {
    const query = '{ users(first: 1) { id } }'
    const notHex = 'sha256Hash must be a SHA-256 in lowercase hex (64 characters): got'
    const malformed: Array<[unknown, string]> = [
      [{ version: 2, sha256Hash: sha256(query) }, 'version must be 1: got 2'],
      [{ version: 1, sha256Hash: sha256(query).toUpperCase() }, `${notHex} "${sha256(query).toUpperCase()}"`],
      [{ version: 1, sha256Hash: 'abc' }, `${notHex} "abc"`],
      ['hash', 'must be an object { version: 1, sha256Hash }: got "hash"'],
      [null, 'must be an object { version: 1, sha256Hash }: got null']
    ]
    for (const [persistedQuery, problem] of malformed) {
      assertError(await post(t, { query, extensions: { persistedQuery } }), 'PERSISTED_QUERY_MALFORMED', { problem })
    }
    assertError(await get(t, { extensions: { persistedQuery: { version: 1 } } }), 'PERSISTED_QUERY_MALFORMED', { problem: `${notHex} undefined` })
  })

  test('a mutation by hash runs over POST; over GET → 405 METHOD_NOT_ALLOWED and does not run', async () => {
    const mutation = 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { name } } }'
    const input = (name: string) => ({ input: { name, email: `${name.toLowerCase()}@example.test`, password: 'password1' } })
    assertData(await post(t, { query: mutation, variables: input('Registered'), extensions: persisted(mutation) }))
    assert.deepEqual(assertData(await post(t, { variables: input('ByHash'), extensions: persisted(mutation) })), { signUp: { user: { name: 'ByHash' } } })
    const users = await usersCount()
    assertError(await get(t, { variables: input('OverGet'), extensions: persisted(mutation) }), 'MUTATION_OVER_GET')
    assert.equal(await usersCount(), users)
  })

  test('the query limits apply when a document is first stored: at each limit it is stored, over it refused and not stored', async () => {
    const cases = [
      // MAX_DEPTH 3
      { within: '{ users(first: 1) { notes(first: 1) { id } } }', over: '{ users(first: 1) { notes(first: 1) { author { id } } } }' },
      // MAX_ALIASES 2
      { within: '{ a: users(first: 1) { id } b: users(first: 1) { id } }', over: '{ a: users(first: 1) { id } b: users(first: 1) { id } c: users(first: 1) { id } }' },
      // MAX_COST 100
      { within: '{ users(first: 100) { id } }', over: '{ users(first: 100) { id } notes(first: 1) { id } }' }
    ]
    for (const { within, over } of cases) {
      assertData(await post(t, { query: within, extensions: persisted(within) }))
      assertData(await post(t, { extensions: persisted(within) }))
      const refused = await post(t, { query: over, extensions: persisted(over) })
      assert.equal(refused.statusCode, 400, refused.body)
      assert.equal(refused.json().errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX', refused.body)
      assertError(await post(t, { extensions: persisted(over) }), 'PERSISTED_QUERY_UNKNOWN')
    }
  })

  test('an invalid document is not stored', async () => {
    const query = '{ users(first: 1) { noSuchField } }'
    assertError(await post(t, { query, extensions: persisted(query) }), 'DOCUMENT_NOT_VALID', { message: 'Cannot query field "noSuchField" on type "User".' })
    assertError(await post(t, { extensions: persisted(query) }), 'PERSISTED_QUERY_UNKNOWN')
  })

  /** What the response cache did with the request, from its log line. */
  async function cacheStatusOf (response: Promise<LightMyRequestResponse>): Promise<{ status: string, body: any }> {
    const awaited = await response
    const reqId = awaited.headers['x-request-id']
    const line = logLines.find((entry) => entry.reqId === reqId && entry.statusCode !== undefined)
    assert.ok(line, `a log line for ${String(reqId)}`)
    return { status: line.cache, body: awaited.json() }
  }

  test('response cache: a hash-only request hits the entry of its document, whether that was cached by text or by hash', async () => {
    const query = '{ users(first: 5) { id name } }'
    const byText = await cacheStatusOf(post(t, { query }))
    assert.equal(byText.status, 'miss')
    // The registration runs (so that the document is stored), even though its answer is cached.
    assert.equal((await cacheStatusOf(post(t, { query, extensions: persisted(query) }))).status, 'skip')
    const byHash = await cacheStatusOf(post(t, { extensions: persisted(query) }))
    assert.equal(byHash.status, 'hit')
    assert.deepEqual(byHash.body.data, byText.body.data)
    assert.equal((await cacheStatusOf(get(t, { extensions: persisted(query) }))).status, 'hit')
    // Sent again with its text once stored, it is the plain request again: a hit.
    assert.equal((await cacheStatusOf(post(t, { query, extensions: persisted(query) }))).status, 'hit')
    const skips = metricSum(await metricsText(t), 'jotter_cache_skips_total', { reason: 'persisting' })
    assert.ok(skips >= 1)
  })

  test('response cache: a registration when the answer is cached still stores the document (no NOT_FOUND loop)', async () => {
    const query = '{ users(first: 6) { name } }'
    await post(t, { query })
    assertError(await post(t, { extensions: persisted(query) }), 'PERSISTED_QUERY_UNKNOWN')
    assertData(await post(t, { query, extensions: persisted(query) }))
    assert.deepEqual(assertData(await post(t, { extensions: persisted(query) })), { users: [{ name: 'Persisted Pat' }, { name: 'Registered' }, { name: 'ByHash' }] })
  })

  test('response cache: two documents never share an entry by hash', async () => {
    const names = '{ users(first: 7) { name } }'
    const ids = '{ users(first: 7) { id } }'
    for (const query of [names, ids]) await post(t, { query, extensions: persisted(query) })
    const first = await post(t, { extensions: persisted(names) })
    const second = await post(t, { extensions: persisted(ids) })
    assert.ok('name' in first.json().data.users[0])
    assert.ok('id' in second.json().data.users[0] && !('name' in second.json().data.users[0]))
  })

  test('metrics name an anonymous document by its hash, a named one by its name; the log line carries the hash', async () => {
    const anonymous = '{ users(first: 8) { id } }'
    const named = 'query EightUsers { users(first: 8) { name } }'
    for (const query of [anonymous, named]) {
      await post(t, { query, extensions: persisted(query) })
      await post(t, { extensions: persisted(query) })
    }
    const text = await metricsText(t)
    assert.ok(metricSum(text, 'jotter_graphql_operations_total', { operation_name: `pq_${sha256(anonymous).slice(0, 16)}` }) >= 2, text)
    assert.ok(metricSum(text, 'jotter_graphql_operations_total', { operation_name: 'EightUsers' }) >= 2)
    const logged = logLines.filter((line) => line.operations?.[0]?.documentHash === sha256(named))
    assert.ok(logged.length >= 2, 'the request log names the document by its hash')
    assert.equal(logged[0].operations[0].name, 'EightUsers')
  })
})

describe('batches (BATCHED_QUERIES=true)', () => {
  let t: TestApp
  before(async () => { t = await startTestApp({ batchedQueries: true }, { database }) })
  after(() => t?.close())

  test('each operation of a batch may register, or name its document by hash; an unknown hash fails the batch', async () => {
    const a = 'query BatchA { users(first: 1) { id } }'
    const b = 'query BatchB { users(first: 2) { id } }'
    const registered = await post(t, [{ query: a, extensions: persisted(a) }, { query: b }])
    assert.equal(registered.statusCode, 200, registered.body)
    assert.equal(registered.json().length, 2)
    const mixed = await post(t, [{ extensions: persisted(a) }, { query: b }])
    assert.equal(mixed.statusCode, 200, mixed.body)
    assert.ok(mixed.json().every((answer: { data?: unknown, errors?: unknown }) => answer.data !== undefined && answer.errors === undefined), mixed.body)
    assertError(await post(t, [{ extensions: persisted(a) }, { extensions: persisted(b) }]), 'PERSISTED_QUERY_UNKNOWN')
  })
})

describe('the store\'s bound (PERSISTED_QUERIES_MAX_BYTES)', () => {
  let t: TestApp
  before(async () => { t = await startTestApp({ persistedQueriesMaxBytes: 1024 }, { database }) })
  after(() => t?.close())

  /** A document of exactly `length` characters (padded with a comment). */
  const documentOf = (name: string, length: number): string => {
    const text = `query ${name} { users(first: 1) { id } } #`
    return text + 'x'.repeat(length - text.length)
  }

  test('documents within the bound stay; one more pushes the least recently used out', async () => {
    // Two entries fit (2 × (300 + overhead) ≤ 1024), three do not.
    assert.ok(2 * (300 + ENTRY_OVERHEAD_BYTES) <= 1024 && 3 * (300 + ENTRY_OVERHEAD_BYTES) > 1024)
    const [a, b, c] = ['A', 'B', 'C'].map((name) => documentOf(name, 300))
    for (const query of [a, b]) assertData(await post(t, { query, extensions: persisted(query) }))
    assertData(await post(t, { extensions: persisted(a) }))
    assertData(await post(t, { extensions: persisted(b) }))
    assertData(await post(t, { extensions: persisted(a) })) // a is now the most recently used
    assertData(await post(t, { query: c, extensions: persisted(c) }))
    assertError(await post(t, { extensions: persisted(b) }), 'PERSISTED_QUERY_UNKNOWN')
    assertData(await post(t, { extensions: persisted(a) }))
    assertData(await post(t, { extensions: persisted(c) }))
  })

  test('a document that fits the bound alone is stored; one over it runs but is never stored', async () => {
    const fits = documentOf('Fits', 1024 - ENTRY_OVERHEAD_BYTES)
    const over = documentOf('Over', 1024 - ENTRY_OVERHEAD_BYTES + 1)
    assertData(await post(t, { query: fits, extensions: persisted(fits) }))
    assertData(await post(t, { extensions: persisted(fits) }))
    assertData(await post(t, { query: over, extensions: persisted(over) }))
    assertError(await post(t, { extensions: persisted(over) }), 'PERSISTED_QUERY_UNKNOWN')
  })
})

describe('trusted documents (TRUSTED_DOCUMENTS_FILE)', () => {
  const listUsers = 'query ListUsers { users(first: 2) { name } }'
  const anonymous = '{ users(first: 1) { id } }'
  const signUp = 'mutation SignUp($input: SignUpInput!) { signUp(input: $input) { user { name } } }'

  function manifestFile (name: string, content: unknown): string {
    const file = join(files, name)
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
    return file
  }

  describe('GraphQL Code Generator\'s map', () => {
    let t: TestApp
    let validations = 0
    let parses = 0
    before(async () => {
      const file = manifestFile('codegen.json', { [sha256(listUsers)]: listUsers, [sha256(anonymous)]: anonymous, [sha256(signUp)]: signUp })
      t = await startTestApp({ trustedDocumentsFile: file }, { database })
      t.app.graphql.addHook('preParsing', async () => { parses++ })
      t.app.graphql.addHook('preValidation', async () => { validations++ })
    })
    after(() => t?.close())

    test('a listed document runs by hash (POST and GET) and by its exact text', async () => {
      const byHash = assertData(await post(t, { extensions: persisted(listUsers) }))
      assert.ok(Array.isArray(byHash.users))
      assert.deepEqual(assertData(await get(t, { extensions: persisted(listUsers) })), byHash)
      assert.deepEqual(assertData(await post(t, { query: listUsers })), byHash)
      assert.deepEqual(assertData(await get(t, { query: listUsers })), byHash)
      assert.deepEqual(assertData(await post(t, { query: listUsers, extensions: persisted(listUsers) })), byHash)
    })

    test('each listed document is validated once, however it is sent', async () => {
      const before = validations
      // No-cache: every one of them executes (a response-cache hit would skip validation anyway).
      const uncached = { 'cache-control': 'no-cache' }
      for (let i = 0; i < 3; i++) assertData(await post(t, { extensions: persisted(anonymous) }, uncached))
      assertData(await post(t, { query: anonymous }, uncached))
      assertData(await get(t, { extensions: persisted(anonymous) }))
      assert.equal(validations - before, 1)
    })

    test('anything else → 403 DOCUMENT_NOT_TRUSTED before it is parsed, and never runs', async () => {
      const parsesBefore = parses
      const refusedBefore = metricSum(await metricsText(t), 'jotter_persisted_queries_refused_total', { reason: 'not_trusted' })
      assertError(await post(t, { query: '{ users(first: 3) { name } }' }), 'DOCUMENT_NOT_LISTED')
      assertError(await get(t, { query: '{ users(first: 3) { name } }' }), 'DOCUMENT_NOT_LISTED')
      // Not even GraphQL: refused as untrusted, not as a syntax error, so it was not parsed.
      assertError(await post(t, { query: '{ users(' }), 'DOCUMENT_NOT_LISTED')
      // The listed text with one more space is another document.
      assertError(await post(t, { query: `${listUsers} ` }), 'DOCUMENT_NOT_LISTED')
      // An unlisted hash, and an APQ registration (its hash right): nothing is registered.
      const unlisted = '{ users(first: 4) { id } }'
      assertError(await post(t, { extensions: persisted(unlisted) }), 'DOCUMENT_HASH_NOT_LISTED')
      assertError(await post(t, { query: unlisted, extensions: persisted(unlisted) }), 'DOCUMENT_NOT_LISTED')
      assertError(await post(t, { extensions: persisted(unlisted) }), 'DOCUMENT_HASH_NOT_LISTED')
      // A mutation that is not listed does not run.
      const users = await usersCount()
      assertError(await post(t, { query: 'mutation { signUp(input: { name: "Untrusted", email: "untrusted@example.test", password: "password1" }) { token } }' }), 'DOCUMENT_NOT_LISTED')
      assert.equal(await usersCount(), users)
      assert.equal(parses, parsesBefore, 'Mercurius parsed none of them')
      const refusedAfter = metricSum(await metricsText(t), 'jotter_persisted_queries_refused_total', { reason: 'not_trusted' })
      assert.equal(refusedAfter - refusedBefore, 8)
    })

    test('a listed text with another document\'s hash → 400 BAD_USER_INPUT', async () => {
      assertError(await post(t, { query: listUsers, extensions: persisted(anonymous) }), 'PERSISTED_QUERY_HASH_MISMATCH', HASH_MISMATCH)
    })

    test('a listed mutation runs by hash over POST, and is refused over GET', async () => {
      const variables = { input: { name: 'Trusted', email: 'trusted@example.test', password: 'password1' } }
      assert.deepEqual(assertData(await post(t, { variables, extensions: persisted(signUp) })), { signUp: { user: { name: 'Trusted' } } })
      assertError(await get(t, { variables: { input: { ...variables.input, email: 'get@example.test' } }, extensions: persisted(signUp) }), 'MUTATION_OVER_GET')
    })

    test('no query and no hash is still a plain 400 BAD_REQUEST', async () => {
      assertError(await post(t, { variables: {} }), 'QUERY_MISSING')
    })

    test('metrics name a listed document by its operation name, an anonymous one by its hash', async () => {
      const text = await metricsText(t)
      assert.ok(metricSum(text, 'jotter_graphql_operations_total', { operation_name: 'ListUsers' }) > 0)
      assert.ok(metricSum(text, 'jotter_graphql_operations_total', { operation_name: `pq_${sha256(anonymous).slice(0, 16)}` }) > 0)
    })
  })

  describe('Apollo\'s persisted-query manifest', () => {
    let t: TestApp
    before(async () => {
      const file = manifestFile('apollo.json', {
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: sha256(anonymous), name: 'FirstUser', type: 'query', body: anonymous }]
      })
      t = await startTestApp({ trustedDocumentsFile: file }, { database })
    })
    after(() => t?.close())

    test('its documents run by hash and by text; others are refused; metrics use the manifest\'s name', async () => {
      assertData(await post(t, { extensions: persisted(anonymous) }))
      assertData(await post(t, { query: anonymous }))
      assertError(await post(t, { query: listUsers }), 'DOCUMENT_NOT_LISTED')
      const text = await metricsText(t)
      // Once: the second is a response-cache hit, which executes nothing.
      assert.ok(metricSum(text, 'jotter_graphql_operations_total', { operation_name: 'FirstUser' }) >= 1, text.split('\n').filter((line) => line.startsWith('jotter_graphql_operations_total')).join('\n'))
    })
  })

  describe('a manifest that cannot run stops the start, naming the entry', () => {
    const cases: Array<[string, unknown, RegExp, Partial<Parameters<typeof startTestApp>[0]>?]> = [
      ['a document that does not validate', { [sha256('{ nope }')]: '{ nope }' }, /entry "[0-9a-f]{64}": the document does not validate: Cannot query field "nope"/],
      ['a hash that is not the document\'s', { [sha256('{ me { id } }')]: anonymous }, /entry "[0-9a-f]{64}": the document's SHA-256 is [0-9a-f]{64}, not its id/],
      ['a SHA-1 id', { ['a'.repeat(40)]: anonymous }, /SHA-256 hash in lowercase hex .*hashAlgorithm 'sha256'/],
      ['a document that does not parse', { [sha256('{ users(')]: '{ users(' }, /the document does not parse/],
      ['not JSON', '{ "a": ', /is not valid JSON/],
      ['an Apollo manifest of another version', { format: 'apollo-persisted-query-manifest', version: 2, operations: [] }, /version: 1, .*got format "apollo-persisted-query-manifest", version 2/],
      ['an Apollo operation with a wrong id', { format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256('x'), name: 'FirstUser', type: 'query', body: anonymous }] }, /operations\[0\] \(FirstUser\): the document's SHA-256/],
      // The query limits hold at start too, on both sides.
      ['a document over MAX_DEPTH', { [sha256('{ users { notes { id } } }')]: '{ users { notes { id } } }' }, /does not validate: .*MAX_DEPTH|does not validate: .*depth/i, { maxDepth: 2 }],
      ['a document over MAX_TOKENS', { [sha256(anonymous)]: anonymous }, /does not parse \(MAX_TOKENS is 5\)/, { maxTokens: 5 }]
    ]
    for (const [name, content, message, overrides] of cases) {
      test(name, async () => {
        const file = manifestFile(`bad-${name.replaceAll(/\W+/g, '-')}.json`, content)
        await assert.rejects(startTestApp({ trustedDocumentsFile: file, ...overrides }, { database }), (error: Error) => {
          assert.ok(error instanceof ConfigError, String(error))
          assert.match(error.message, /^TRUSTED_DOCUMENTS_FILE /)
          assert.match(error.message, message)
          return true
        })
      })
    }

    test('the same documents within those limits start', async () => {
      const depthTwo = '{ users { notes { id } } }'
      const file = manifestFile('within-limits.json', { [sha256(depthTwo)]: depthTwo })
      const t = await startTestApp({ trustedDocumentsFile: file, maxDepth: 3, maxTokens: 11 }, { database })
      await t.close()
    })

    test('a file that cannot be read', async () => {
      await assert.rejects(startTestApp({ trustedDocumentsFile: join(files, 'missing.json') }, { database }), /TRUSTED_DOCUMENTS_FILE cannot be read/)
    })
  })
})

const redisUrl = process.env.TEST_REDIS_URL
describe('the store shared through Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set: Redis tests skipped' }, () => {
  let one: TestApp
  let two: TestApp
  let elsewhere: TestApp
  let redis: Redis
  before(async () => {
    // Redis is what this test is about: a pause of the machine must not time a command out.
    const shared = { redisUrl, redisCommandTimeoutMs: 5000 }
    one = await startTestApp({ ...shared, deploymentId: database.name }, { database })
    two = await startTestApp({ ...shared, deploymentId: database.name }, { database })
    elsewhere = await startTestApp({ ...shared, deploymentId: `${database.name}-other` }, { database })
    redis = new Redis(redisUrl!)
  })
  after(async () => {
    await one?.close()
    await two?.close()
    await elsewhere?.close()
    // The documents stored here live for days: leave none in the machine's Redis.
    const stored = redis === undefined ? [] : await redis.keys(`jotter:pq:v1:${database.name}*`)
    if (stored.length > 0) await redis.del(...stored)
    await redis?.quit()
  })

  test('a document stored by one instance runs by hash on another of the same deployment, not on another deployment', async () => {
    const query = 'query SharedUsers { users(first: 9) { id } }'
    assertData(await post(one, { query, extensions: persisted(query) }))
    assertData(await post(two, { extensions: persisted(query) }))
    assertError(await post(elsewhere, { extensions: persisted(query) }), 'PERSISTED_QUERY_UNKNOWN')
    assert.equal(await redis.get(`jotter:pq:v1:${database.name}:${sha256(query)}`), query)
    assert.ok(await redis.ttl(`jotter:pq:v1:${database.name}:${sha256(query)}`) > 0, 'Redis holds it with an expiry')
  })

  test('a value in Redis that does not hash to its key is never run', async () => {
    const claimed = '{ users(first: 10) { id } }'
    await redis.set(`jotter:pq:v1:${database.name}:${sha256(claimed)}`, 'mutation { signUp(input: { name: "Planted", email: "planted@example.test", password: "password1" }) { token } }', 'EX', 60)
    const users = await usersCount()
    assertError(await post(two, { extensions: persisted(claimed) }), 'PERSISTED_QUERY_UNKNOWN')
    assert.equal(await usersCount(), users)
  })
})
