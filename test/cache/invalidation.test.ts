/**
 * Invalidation per mutation and per viewer through the front door, one app (memory tier).
 * invalidation-redis.test.ts runs the same matrix through two instances sharing Redis.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { runScenario, scenarios, viewersOn, type Viewers } from './invalidation-scenarios.ts'

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
})
