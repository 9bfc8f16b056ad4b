/**
 * Every metric family Jotter exports exists at GET /metrics and moves when its event happens.
 * Through the front door: requests via app.inject, assertions on the scraped text.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createDeadline } from '../../src/deadline/deadline.ts'
import { createTestDatabase } from '../helpers/database.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { familyNames, series, valueOf } from './prometheus-text.ts'

const POOL_MAX = 2
let t: TestApp

before(async () => {
  // Cache off: every query here must execute, so the SQL and loader counts are exact.
  t = await startTestApp({ cacheEnabled: false }, { database: await createTestDatabase({ poolMax: POOL_MAX }) })
})
after(async () => {
  await t.close()
  await t.database.drop()
})

async function scrape (): Promise<string> {
  const response = await t.app.inject({ url: '/metrics' })
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  return response.body
}

test('HTTP duration by route pattern, method and status class; unknown paths are "unmatched"', async () => {
  const before = await scrape()
  await t.gql('query Ping { __typename }')
  await t.gql('query Ping { __typename }')
  await t.app.inject({ url: '/no/such/path-12345?x=1' })
  await t.app.inject({ url: '/health/live' })
  await t.app.inject({ method: 'HEAD', url: '/health/live' })
  const after = await scrape()
  const graphql = { route: '/graphql', method: 'POST', status_class: '2xx' }
  assert.equal(valueOf(after, 'jotter_http_request_duration_seconds_count', graphql) - valueOf(before, 'jotter_http_request_duration_seconds_count', graphql), 2)
  const unmatched = { route: 'unmatched', method: 'GET', status_class: '4xx' }
  assert.equal(valueOf(after, 'jotter_http_request_duration_seconds_count', unmatched) - valueOf(before, 'jotter_http_request_duration_seconds_count', unmatched), 1)
  assert.ok(!after.includes('path-12345'), 'the raw URL never becomes a label')
  // Each route observes itself (routes Fastify derives, like HEAD from GET, exactly once too).
  for (const method of ['GET', 'HEAD']) {
    const live = { route: '/health/live', method, status_class: '2xx' }
    assert.equal(valueOf(after, 'jotter_http_request_duration_seconds_count', live) - valueOf(before, 'jotter_http_request_duration_seconds_count', live), 1, method)
  }
  assert.ok(valueOf(after, 'jotter_http_request_duration_seconds_bucket', { ...graphql, le: '0.2' }) >= 2, 'the 200 ms SLO edge is a bucket')
  // The scrape itself is the only request in flight: every earlier one was counted down again.
  assert.equal(valueOf(after, 'jotter_http_requests_in_flight'), 1)
})

test('GraphQL operations by type and name, with outcome; DataLoader batches; SQL statements', async () => {
  const alice = await t.signUp('Alice')
  for (const title of ['one', 'two']) {
    const created = await t.gql('mutation AddNote($title: String!) { createNote(input: { title: $title, visibility: PUBLIC, tags: ["x"] }) { id } }',
      { token: alice.token, variables: { title } })
    assert.equal(created.status, 200)
  }
  const before = await scrape()
  const listed = await t.gql('query NotesWithAuthors { notes(first: 10) { title author { name } tags { name } } }')
  assert.equal(listed.body.data.notes.length, 2)
  const failed = await t.gql('query MissingNote { note(id: "not-a-number") { title } }')
  assert.ok(failed.body.errors, 'this operation answers with an error')
  await t.gql('{ __typename }')
  const after = await scrape()
  const moved = (name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOf(before, name, labels)

  const named = { operation_type: 'query', operation_name: 'NotesWithAuthors' }
  assert.equal(moved('jotter_graphql_operation_duration_seconds_count', named), 1)
  assert.equal(moved('jotter_graphql_operations_total', { ...named, outcome: 'ok' }), 1)
  assert.equal(moved('jotter_graphql_operations_total', { operation_type: 'query', operation_name: 'anonymous', outcome: 'ok' }), 1)
  assert.equal(moved('jotter_graphql_operations_total', { operation_name: 'MissingNote', outcome: 'ok' }), 0)
  assert.equal(moved('jotter_graphql_operations_total', { operation_name: 'MissingNote' }), 1)
  assert.equal(valueOf(after, 'jotter_graphql_operations_total', { operation_type: 'mutation', operation_name: 'AddNote', outcome: 'ok' }), 2)

  assert.equal(moved('jotter_dataloader_batches_total', { loader: 'userById' }), 1, 'both authors in one batch')
  assert.equal(moved('jotter_dataloader_batch_size_count', { loader: 'userById' }), 1)
  assert.ok(moved('jotter_dataloader_batches_total') >= 2, 'authors and tags loaders both batched')

  assert.ok(moved('jotter_sql_statements_total', { outcome: 'ok' }) >= 3)
  assert.equal(moved('jotter_sql_statement_duration_seconds_count'), moved('jotter_sql_statements_total'))
  assert.ok(valueOf(after, 'jotter_sql_statements_total', { statement: 'createNote', outcome: 'ok' }) >= 2)
  assert.equal(moved('jotter_sql_statements_per_request_count'), 3, 'one observation per GraphQL request')
  assert.ok(moved('jotter_sql_statements_per_request_sum') >= 3)
})

test('pool gauges: max, open, idle and waiting follow the statements on the pool', async () => {
  const idle = await scrape()
  assert.equal(valueOf(idle, 'jotter_db_pool_connections', { state: 'max' }), POOL_MAX)
  assert.equal(valueOf(idle, 'jotter_db_pool_connections', { state: 'open' }), 0)
  // Open connections stay in the pool, free, until its idle timeout.
  const idleBefore = valueOf(idle, 'jotter_db_pool_connections', { state: 'idle' })
  assert.ok(idleBefore >= 1 && idleBefore <= POOL_MAX, `idle ${idleBefore}`)
  assert.equal(valueOf(idle, 'jotter_db_pool_connections', { state: 'waiting' }), 0)

  // Three slow statements through the gateway on a pool of two: two run, one queues.
  const scope = { sqlCounter: { statements: 0 }, deadline: createDeadline(10_000) }
  const sleeping = [1, 2, 3].map(() => t.database.db.query(scope, 'testSleep', (sql) => sql`select pg_sleep(3)`))
  // Connections are opened asynchronously: scrape until both are checked out and the third
  // statement queues (well within the sleep, however slow the machine is that second).
  let busy = await scrape()
  const settled = (text: string): boolean => valueOf(text, 'jotter_db_pool_connections', { state: 'open' }) === POOL_MAX && valueOf(text, 'jotter_db_pool_connections', { state: 'waiting' }) === 1
  for (let i = 0; i < 200 && !settled(busy); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    busy = await scrape()
  }
  await Promise.all(sleeping)
  scope.deadline.dispose()
  assert.equal(valueOf(busy, 'jotter_db_pool_connections', { state: 'open' }), POOL_MAX)
  assert.equal(valueOf(busy, 'jotter_db_pool_connections', { state: 'idle' }), 0)
  assert.equal(valueOf(busy, 'jotter_db_pool_connections', { state: 'waiting' }), 1)
  const done = await scrape()
  assert.equal(valueOf(done, 'jotter_db_pool_connections', { state: 'open' }), 0)
  assert.equal(valueOf(done, 'jotter_db_pool_connections', { state: 'idle' }), POOL_MAX, 'both connections back, free')
  assert.equal(valueOf(done, 'jotter_db_pool_connections', { state: 'waiting' }), 0)
})

test('event-loop lag and the default process metrics are there', async () => {
  const text = await scrape()
  const families = familyNames(text)
  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total',
    'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
    assert.ok(families.has(name), `${name} is exported`)
  }
  assert.ok(series(text).some((sample) => sample.name === 'nodejs_eventloop_lag_seconds' && sample.value >= 0))
})
