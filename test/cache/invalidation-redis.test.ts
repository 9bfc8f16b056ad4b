/**
 * The invalidation matrix through two app instances sharing PostgreSQL and Redis: mutate
 * through one, read through the other. Needs TEST_REDIS_URL and says so when it is missing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { runScenario, scenarios, viewersOn, type Viewers } from './invalidation-scenarios.ts'

const redisUrl = process.env.TEST_REDIS_URL
describe('invalidation, two apps sharing PostgreSQL and Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set: Redis tests skipped' }, () => {
  let database: TestDatabase
  let writer: TestApp
  let reader: TestApp
  let viewers: Viewers
  before(async () => {
    database = await createTestDatabase()
    // A generous Redis command timeout: under a loaded machine a lookup slower than the default
    // 50 ms counts as a miss by design (redis-outage.test.ts tests that), which this file is not about.
    const settings = { exposeSqlCount: true, redisUrl, deploymentId: database.name, cacheClockSkewMs: 0, redisCommandTimeoutMs: 5000 }
    writer = await startTestApp(settings, { database })
    reader = await startTestApp(settings, { database })
    viewers = await viewersOn(writer)
  })
  after(async () => {
    await writer?.close()
    await reader?.close()
    await database?.drop()
  })

  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      assert.ok(await runScenario(scenario, writer, reader, viewers) > 0, 'the mutation changed no cached answer: the scenario tests nothing')
    })
  }

  test('a response cached by one instance is a hit on the other (shared tier)', async () => {
    const query = '{ users(first: 3) { id name } }'
    const first = await writer.gql(query, { token: viewers.other.token })
    assert.ok((first.body.extensions?.sqlStatements as number) > 0)
    const second = await reader.gql(query, { token: viewers.other.token })
    assert.equal(second.body.extensions?.sqlStatements, 0)
    assert.deepEqual(second.body.data, first.body.data)
  })
})
