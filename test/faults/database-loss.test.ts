/**
 * Fault survival with the default configuration (response cache and row cache on), through a
 * TCP proxy the test controls in front of a real PostgreSQL:
 * unreachable at start (retry with a log line, readiness 503, then ready by itself), lost
 * mid-run (fast 503 + Retry-After, readiness 503, recovery by itself), and a pooled connection
 * killed by pg_terminate_backend (no crash, the next request succeeds).
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { configWith } from '../../src/config.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

let database: TestDatabase
let proxy: TcpProxy
let app: FastifyInstance
const logLines: string[] = []

async function graphql (query = '{ notes { id } }') {
  const started = performance.now()
  const response = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query }) })
  return { response, ms: performance.now() - started }
}

async function eventually (check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs
  while (performance.now() < until) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.fail(`not within ${timeoutMs} ms: ${what}`)
}

before(async () => {
  database = await createTestDatabase()
  const target = new URL(database.url)
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, { up: false })
  const viaProxy = new URL(database.url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)
  const config = configWith({
    databaseUrl: viaProxy.toString(),
    jwtSecret: TEST_JWT_SECRET,
    logLevel: 'info',
    seedDemoData: false,
    dbPoolMax: 3,
    httpTimeoutMs: 3000,
    graphqlTimeoutMs: 2500,
    dbTimeoutMs: 2000
  })
  const logDestination = new Writable({ write (chunk, _encoding, done) { logLines.push(String(chunk)); done() } })
  // The database is unreachable while the app starts: buildApp must not block on it.
  app = await buildApp(config, { logDestination } as never)
})
after(async () => {
  await app.close()
  await proxy.close()
  await database.drop()
})

test('unreachable at start: it listens, readiness and the API say 503, retries are logged, then it is ready by itself', async () => {
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  assert.equal(ready.statusCode, 503)
  assert.equal(ready.headers['retry-after'], '1')
  const { status, reason, errors } = ready.json()
  assert.deepEqual({ status, reason }, { status: 'unavailable', reason: 'starting' })
  assertCatalogueError('NOT_READY_STARTING', { status: ready.statusCode, body: { errors } })
  assert.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200)
  const { response } = await graphql()
  assert.equal(response.statusCode, 503)
  assert.equal(response.headers['retry-after'], '1')
  assertCatalogueError('NOT_STARTED', { status: response.statusCode, body: response.json() })
  await eventually(async () => logLines.some((line) => /not reachable.*retrying in \d+ ms/.test(line)), 'a retry log line')

  await proxy.restore()
  await eventually(async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200, 'ready after the database is back')
  const after = await graphql()
  assert.equal(after.response.statusCode, 200, after.response.body)
})

test('lost mid-run: fast 503 + Retry-After, readiness fails, and it recovers by itself', async () => {
  assert.equal((await graphql()).response.statusCode, 200)
  await proxy.cut()
  // The cache bus notices its lost connection and stops serving from the caches; until then a
  // cached answer is still within the staleness bound. A query no cache holds goes to SQL at once.
  await eventually(async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 503, 'readiness fails')
  const { response, ms } = await graphql('{ notes(first: 7) { id } }')
  assert.equal(response.statusCode, 503, response.body)
  assert.equal(response.headers['retry-after'], '1')
  assert.equal(response.json().errors[0].extensions.code, 'SERVICE_UNAVAILABLE')
  assert.doesNotMatch(response.body, /ECONN|CONNECTION_|postgres/i, 'nothing internal leaks')
  assert.ok(ms < 1000, `failed fast: ${Math.round(ms)} ms`)
  assert.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503)

  await proxy.restore()
  await eventually(async () => (await graphql()).response.statusCode === 200, 'requests succeed again')
  assert.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)
})

test('pooled connections killed by pg_terminate_backend: no crash, the next requests succeed', async () => {
  // Distinct queries, so that no cache answers them and three pooled connections are in use.
  await Promise.all([graphql('{ notes(first: 1) { id } }'), graphql('{ notes(first: 2) { id } }'), graphql('{ notes(first: 3) { id } }')])
  const [{ killed }] = await database.db.sql`
    select count(pg_terminate_backend(pid))::int as killed from pg_stat_activity
    where datname = current_database() and application_name = 'jotter' and pid <> pg_backend_pid()`
  assert.ok(killed >= 1)
  for (let i = 0; i < 3; i++) {
    const { response } = await graphql(`{ notes(first: ${11 + i}) { id } }`)
    assert.equal(response.statusCode, 200, response.body)
  }
})
