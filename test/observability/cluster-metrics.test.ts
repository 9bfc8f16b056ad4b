/**
 * WORKERS=2: a scrape reaches either worker and still sees the whole cluster's counts. The
 * server is forked as in production (`node --import tsx src/server.ts`) on a free port; the log
 * lines (with their pid) show that the requests really were spread over both workers.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { valueOf } from './prometheus-text.ts'
import { freePort } from '../../tools/free-port.ts'

const REQUESTS = 12
let database: TestDatabase
let server: ChildProcess
let port: number
let output = ''
const dataDir = mkdtempSync(join(tmpdir(), 'jotter-cluster-'))

before(async () => {
  database = await createTestDatabase()
  port = await freePort()
  server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    detached: true, // its own process group, so `after` stops the primary and both workers
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      WORKERS: '2',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      JWT_SECRET: TEST_JWT_SECRET,
      SEED_DEMO_DATA: 'false',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '1000',
      DATA_DIR: dataDir
    }
  })
  server.stdout!.on('data', (chunk) => { output += chunk })
  server.stderr!.on('data', (chunk) => { output += chunk })
  const started = Date.now()
  await waitForWorkers(2, 30_000)
  console.log(`cluster ready in ${Date.now() - started} ms`)
})
after(async () => {
  if (server.pid && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve))
    const stopping = Date.now()
    process.kill(-server.pid, 'SIGTERM')
    await exited
    console.log(`cluster stopped in ${Date.now() - stopping} ms`)
  }
  await database.drop()
  rmSync(dataDir, { recursive: true, force: true })
})

test('one /metrics aggregates every worker', async () => {
  for (let i = 0; i < REQUESTS; i++) assert.equal((await get('/health/live')).status, 200)
  const pids = new Set(logLines().filter((line) => line.route === '/health/live').map((line) => line.pid))
  assert.equal(pids.size, 2, `requests reached both workers: ${[...pids].join(', ')}`)

  for (let scrape = 0; scrape < 4; scrape++) {
    const metrics = await get('/metrics')
    assert.equal(metrics.status, 200, metrics.body.slice(0, 300))
    assert.equal(valueOf(metrics.body, 'jotter_http_request_duration_seconds_count', { route: '/health/live' }), REQUESTS,
      `scrape ${scrape} counts every worker's requests`)
    assert.equal(valueOf(metrics.body, 'jotter_db_pool_connections', { state: 'max' }), 20, 'two pools of DB_POOL_MAX=10')
    assert.match(metrics.body, /^nodejs_eventloop_lag_seconds /m)
  }
})

// Private:

function logLines (): Array<Record<string, any>> {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
}

async function waitForWorkers (count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (logLines().filter((line) => /Jotter ready/.test(String(line.msg))).length < count) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}:\n${output}`)
    if (Date.now() > until) throw new Error(`${count} workers not ready within ${timeoutMs} ms:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A GET on a fresh connection each time, so the primary spreads them over the workers. */
function get (path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}
