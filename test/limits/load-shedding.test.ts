/**
 * Load shedding: under event-loop pressure (a busy loop the test runs) GraphQL requests get
 * 503 + Retry-After with a SERVICE_UNAVAILABLE body while health and metrics still answer;
 * when the load stops, requests succeed again. A heap threshold below the heap in use sheds
 * every API request.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { RETRY_AFTER_SECONDS } from '../../src/errors.ts'
import { registerLoadShedding } from '../../src/http/load-shedding.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

let t: TestApp
before(async () => { t = await startTestApp({ cacheEnabled: false }) })
after(() => t.close())

/** A tiny app with only the shedding and three routes, so the test measures nothing else. */
async function sheddingApp (config: { shedMaxEventLoopDelayMs: number, shedMaxHeapUsedBytes: number }) {
  const app = Fastify()
  const metrics = new Registry()
  await registerLoadShedding(app, config, { metrics, sampleIntervalMs: 25 })
  app.post('/graphql', async () => ({ data: { ok: true } }))
  app.get('/health/ready', async () => ({ status: 'ok' }))
  app.get('/metrics', async () => metrics.metrics())
  await app.ready()
  return { app, metrics }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('event-loop delay over the threshold → 503 + Retry-After; health and metrics answer; recovers', async () => {
  const { app } = await sheddingApp({ shedMaxEventLoopDelayMs: 40, shedMaxHeapUsedBytes: 0 })
  const post = () => app.inject({ method: 'POST', url: '/graphql', payload: {} })
  try {
    assert.equal((await post()).statusCode, 200, 'not shed while idle')
    // Sustained load: block the loop 120 ms out of every ~130 ms.
    const load = setInterval(() => { const until = performance.now() + 120; while (performance.now() < until); }, 10)
    let shed
    for (let i = 0; i < 40 && !shed; i++) {
      const response = await post()
      if (response.statusCode === 503) shed = response
      await sleep(5)
    }
    const health = await app.inject({ method: 'GET', url: '/health/ready' })
    const metrics = await app.inject({ method: 'GET', url: '/metrics' })
    clearInterval(load)
    assert.ok(shed, 'a request was shed under load')
    assert.equal(shed.headers['retry-after'], String(RETRY_AFTER_SECONDS))
    assertCatalogueError('OVERLOADED', { status: shed.statusCode, body: shed.json() })
    assert.equal(shed.json().errors.length, 1)
    assert.equal(health.statusCode, 200, 'health answers under pressure')
    assert.equal(metrics.statusCode, 200)
    assert.match(metrics.body, /jotter_requests_shed_total\{reason="eventLoopDelay"\} [1-9]/)

    let recovered = false
    for (let i = 0; i < 100 && !recovered; i++) {
      await sleep(20)
      recovered = (await post()).statusCode === 200
    }
    assert.ok(recovered, 'requests succeed again once the load stops')
  } finally {
    await app.close()
  }
})

test('heap use over SHED_MAX_HEAP_USED_BYTES sheds API requests; a threshold above it does not', async () => {
  const over = await sheddingApp({ shedMaxEventLoopDelayMs: 0, shedMaxHeapUsedBytes: 1024 * 1024 })
  const under = await sheddingApp({ shedMaxEventLoopDelayMs: 0, shedMaxHeapUsedBytes: 64 * 1024 * 1024 * 1024 })
  try {
    await sleep(100) // at least one sample
    assert.equal((await over.app.inject({ method: 'POST', url: '/graphql', payload: {} })).statusCode, 503)
    assert.equal((await over.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200)
    assert.equal((await under.app.inject({ method: 'POST', url: '/graphql', payload: {} })).statusCode, 200)
  } finally {
    await over.app.close()
    await under.app.close()
  }
})

test('the real app registers shedding from config: jotter_requests_shed_total is exported', async () => {
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' })
  assert.match(metrics.body, /# TYPE jotter_requests_shed_total counter/)
})
