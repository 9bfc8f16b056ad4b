/**
 * When things go wrong: an unexpected resolver error is masked (no message, no stack, no SQL
 * reaches the client); readiness follows the database; PRODUCTION=true hides the IDE, the
 * introspection and the field suggestions.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { dropDatabase } from '../../src/db/connect.ts'
import { RETRY_AFTER_SECONDS } from '../../src/errors.ts'
import { testServerUrl } from '../helpers/database.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

describe('an unexpected resolver error', () => {
  let t: TestApp
  before(async () => { t = await startTestApp() })
  after(() => t.close())

  test('is masked as "Unexpected error." INTERNAL_SERVER_ERROR, with no details or stack', async () => {
    // A schema the code does not expect: every statement on tags fails inside PostgreSQL.
    await t.database.db.sql`alter table tags rename to tags_moved_away`
    try {
      const result = await t.gql('{ tags { id } notes { id } }')
      assert.equal(result.status, 200, 'a field error: the GraphQL response, not an HTTP failure')
      assert.equal(result.body.data, null, 'tags is non-null: the error nulls the whole data')
      assert.deepEqual(result.body.errors, [{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['tags'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }])
      const raw = JSON.stringify(result.body)
      for (const leak of ['tags_moved_away', 'relation', 'postgres', 'stack', '.ts:']) assert.ok(!raw.includes(leak), `leaks ${leak}: ${raw}`)
    } finally {
      await t.database.db.sql`alter table tags_moved_away rename to tags`
    }
    const healed = await t.gql('{ tags { id } }')
    assert.deepEqual(healed.body, { data: { tags: [] } }, 'the same query works again once the table is back')
  })
})

describe('health', () => {
  let t: TestApp
  before(async () => { t = await startTestApp() })
  after(() => t.close())

  test('/health/live and /health/ready answer 200; ready turns 503 once the database is gone', async () => {
    const live = await t.app.inject({ method: 'GET', url: '/health/live' })
    assert.equal(live.statusCode, 200)
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' })
    assert.equal(ready.statusCode, 200, ready.body)

    await dropDatabase(testServerUrl(), t.database.name)

    const notReady = await t.app.inject({ method: 'GET', url: '/health/ready' })
    assert.equal(notReady.statusCode, 503, notReady.body)
    assert.equal(notReady.headers['retry-after'], String(RETRY_AFTER_SECONDS), 'tells the client when to retry')
    const { status, reason, errors } = notReady.json()
    assert.deepEqual({ status, reason }, { status: 'unavailable', reason: 'database' })
    assertCatalogueError('NOT_READY_DATABASE', { status: notReady.statusCode, body: { errors } })
    const stillLive = await t.app.inject({ method: 'GET', url: '/health/live' })
    assert.equal(stillLive.statusCode, 200, 'the process itself is fine')
    const query = await t.gql('{ notes { id } }')
    assert.ok(query.status !== 200 || query.body.errors, 'a query without a database does not succeed')
    assert.ok(query.body.errors?.every((e) => e.extensions?.code !== undefined), JSON.stringify(query.body))
    assert.ok(!JSON.stringify(query.body).includes(t.database.name), 'the database name does not leak')
  })
})

describe('PRODUCTION=true', () => {
  let t: TestApp
  before(async () => { t = await startTestApp({ production: true }) })
  after(() => t.close())

  test('no GraphiQL: /graphiql and its assets are 404', async () => {
    for (const url of ['/graphiql', '/graphiql/assets/graphiql.min.js', '/graphiql/assets/start-graphiql.js']) {
      const response = await t.app.inject({ method: 'GET', url })
      assert.equal(response.statusCode, 404, url)
    }
  })

  for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Note") { name } }']) {
    test(`introspection refused: ${query}`, async () => {
      const result = await t.gql(query)
      assert.equal(result.status, 400)
      assert.equal(result.body.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED')
      assert.equal(result.body.data, undefined)
    })
  }

  test('__typename still works (clients rely on it)', async () => {
    assert.deepEqual((await t.gql('{ __typename }')).body, { data: { __typename: 'Query' } })
  })

  test('no field suggestions in validation errors', async () => {
    const result = await t.gql('{ notes { titl } }')
    assert.equal(result.status, 400)
    assert.equal(result.body.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED')
    assert.doesNotMatch(result.body.errors![0].message, /Did you mean/)
  })

  test('queries still run', async () => {
    assert.deepEqual((await t.gql('{ notes { id } }')).body, { data: { notes: [] } })
  })
})

describe('outside PRODUCTION, suggestions help the developer', () => {
  let t: TestApp
  before(async () => { t = await startTestApp() })
  after(() => t.close())

  test('a misspelt field suggests the right one', async () => {
    const result = await t.gql('{ notes { titl } }')
    assert.match(result.body.errors![0].message, /Did you mean "title"/)
  })
})

describe('a masked database error is logged with what the client does not get', () => {
  test('the client sees "Unexpected error."; one error-level line carries PostgreSQL\'s message and the request id', async () => {
    const { Writable } = await import('node:stream')
    const { buildApp } = await import('../../src/app.ts')
    const { configWith } = await import('../../src/config.ts')
    const { createTestDatabase } = await import('../helpers/database.ts')
    const { TEST_JWT_SECRET } = await import('../helpers/app.ts')
    const lines: string[] = []
    const database = await createTestDatabase()
    const config = configWith({ databaseUrl: database.url, jwtSecret: TEST_JWT_SECRET, logLevel: 'info', seedDemoData: false, dataDir: '.data-test-masked' })
    const app = await buildApp(config, { database, logDestination: new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } }) })
    try {
      await database.db.sql`alter table tags rename to tags_moved_away`
      const response = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', 'x-request-id': 'masked-error-1' }, payload: JSON.stringify({ query: '{ tags { id } }' }) })
      assert.equal(response.json().errors[0].message, 'Unexpected error.')
      assert.doesNotMatch(response.body, /relation|tags_moved_away/)
      const logged = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50 && entry.err)
      assert.equal(logged.length, 1, lines.join(''))
      assert.match(logged[0].err.message, /relation "tags" does not exist/)
      assert.ok(logged[0].reqId, 'the line names its request')
    } finally {
      await app.close()
      await database.drop()
    }
  })
})
