/** The bounded operation_name label: unit test of the core, then 10,000 names through the front door. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createOperationLabeler } from '../../src/observability/operation-label.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { series } from './prometheus-text.ts'

test('names up to the bound keep their label, first come; later ones are "other"; no name is "anonymous"', () => {
  const labeler = createOperationLabeler(2)
  assert.equal(labeler.label('First'), 'First')
  assert.equal(labeler.label('Second'), 'Second')
  assert.equal(labeler.size, 2)
  assert.equal(labeler.label('Third'), 'other')
  assert.equal(labeler.label('First'), 'First', 'a kept name stays kept')
  assert.equal(labeler.label(undefined), 'anonymous')
  assert.equal(labeler.label(null), 'anonymous')
  assert.equal(labeler.label(''), 'anonymous')
  assert.equal(labeler.size, 2)
})

test('raw client input that is not a GraphQL name is "other" and takes no slot', () => {
  const labeler = createOperationLabeler(10)
  for (const name of ['has space', 'a"quote', '1starts', 'é', 'x'.repeat(101)]) assert.equal(labeler.label(name), 'other', name)
  assert.equal(labeler.label('x'.repeat(100)), 'x'.repeat(100), '100 characters is still a name')
  assert.equal(labeler.size, 1)
})

test('the bound must be a positive integer', () => {
  assert.throws(() => createOperationLabeler(0), /maxOperations must be a positive integer: 0/)
  assert.throws(() => createOperationLabeler(1.5), /maxOperations must be a positive integer: 1.5/)
})

const MAX_OPERATIONS = 100
const DISTINCT_NAMES = 10_000
const PER_BATCH = 1000
let t: TestApp

before(async () => {
  // Batched queries carry 1,000 operations per request, so 10,000 names take 10 requests. Such a
  // request holds the event loop long enough for load shedding to answer 503: shedding is off here.
  t = await startTestApp({
    metricsMaxOperations: MAX_OPERATIONS, batchedQueries: true, maxBatchedOperations: PER_BATCH, cacheEnabled: false, shedMaxEventLoopDelayMs: 0
  })
})
after(() => t.close())

test(`${DISTINCT_NAMES} distinct operation names make at most ${MAX_OPERATIONS} + 2 label values`, async () => {
  for (let start = 0; start < DISTINCT_NAMES; start += PER_BATCH) {
    const operations = Array.from({ length: PER_BATCH }, (_, i) => ({ query: `query Op${start + i} { __typename }` }))
    const response = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(operations) })
    assert.equal(response.statusCode, 200, response.body.slice(0, 300))
    assert.equal(response.json().length, PER_BATCH)
  }
  await t.gql('{ __typename }')
  const text = (await t.app.inject({ url: '/metrics' })).body
  const counted = series(text).filter((sample) => sample.name === 'jotter_graphql_operations_total')
  const names = new Set(counted.map((sample) => sample.labels.operation_name))
  assert.equal(names.size, MAX_OPERATIONS + 2, 'the kept names, "other" and "anonymous"')
  assert.ok(names.has('other') && names.has('anonymous'))
  const total = counted.reduce((sum, sample) => sum + sample.value, 0)
  assert.equal(total, DISTINCT_NAMES + 1, 'every operation is still counted')
  assert.equal(counted.filter((s) => s.labels.operation_name === 'other').reduce((sum, s) => sum + s.value, 0), DISTINCT_NAMES - MAX_OPERATIONS)
  const durationSeries = series(text).filter((sample) => sample.name === 'jotter_graphql_operation_duration_seconds_count')
  assert.equal(new Set(durationSeries.map((sample) => sample.labels.operation_name)).size, MAX_OPERATIONS + 2)
  assert.ok(text.length < 2_000_000, `the scrape stays small: ${text.length} bytes`)
})
