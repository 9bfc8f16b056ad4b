/**
 * Graceful shutdown of a forked server (`node --import tsx src/server.ts`): requests held in
 * flight by a table lock the test takes, SIGTERM mid-flight; the in-flight requests complete,
 * new ones are refused, the process exits 0. A second signal forces exit 1 at once.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { get as httpGet } from 'node:http'
import { after, before, test } from 'node:test'
import pg from 'pg'
import { sqlOn, withTransaction } from '../../src/db/trusted-sql.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { freePort } from '../../tools/free-port.ts'

let database: TestDatabase
let locker: pg.Pool
/** Errors of the locker's idle connections: none may come while the tests run. */
const lockerErrors: Error[] = []
let tearingDown = false
before(async () => {
  database = await createTestDatabase()
  locker = new pg.Pool({ connectionString: database.url, max: 2 })
  // An idle connection the database ends emits 'error' on the pool; unheard, it would end this
  // file's process. While tearing down (the database is dropped with its sessions) that is
  // expected; before, it fails the file below with the error itself.
  locker.on('error', (error) => { if (!tearingDown) lockerErrors.push(error) })
})
after(async () => {
  tearingDown = true
  await locker.end()
  await database.drop()
  assert.deepEqual(lockerErrors.map((error) => error.message), [], 'the lock holder\'s connections were ended while the tests ran')
})

async function startServer (workers = 1): Promise<{ child: ChildProcess, url: string, exited: Promise<number | null> }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'false',
      CACHE_ENABLED: 'false',
      SHUTDOWN_GRACE_MS: '5000',
      // Not under test here, and a worker that has just started on a busy machine can see more
      // than the default second of event-loop delay: its requests would be shed (503) instead
      // of waiting on the lock, and the drain would have nothing to drain.
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      WORKERS: String(workers)
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    // Its own process group: a failed test kills the primary and its workers together.
    detached: true
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  // Generous: two workers compiling TypeScript on a busy 2-core machine can take a while.
  // Every worker must be ready, not just the first: the primary hands connections only to
  // workers already listening, and a worker listens before its database has answered (it
  // answers 503 until then), so readiness counts the distinct pids that answered ready.
  const ready = new Set<number>()
  for (let i = 0; i < 900; i++) {
    const pid = await readyOnFreshConnection(url)
    if (pid !== undefined) ready.add(pid)
    if (ready.size >= workers) return { child, url, exited }
    if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error('the server did not become ready')
}

function query (url: string): Promise<number | 'refused'> {
  return fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ query: '{ notes { id } }' }) })
    .then((response) => response.status === 503 ? 'refused' : response.status, () => 'refused')
}

/** Holds an exclusive lock on notes until the returned function is called. */
async function lockNotes (): Promise<() => Promise<void>> {
  let release = (): void => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let locked = (): void => {}
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  const holder = withTransaction(locker, async (tx) => {
    await tx`lock table notes in access exclusive mode`
    locked()
    await released
  })
  await isLocked
  return async () => { release(); await holder }
}

/** The pid of the process that answered ready on a connection of its own, or undefined. */
function readyOnFreshConnection (url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = httpGet(`${url}/health/ready`, { agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => resolve(response.statusCode === 200 ? (JSON.parse(body) as { pid: number }).pid : undefined))
      response.on('error', () => resolve(undefined))
    })
    request.on('error', () => resolve(undefined))
  })
}

/**
 * Waits until the server has taken a SIGTERM in: readiness on a fresh connection is refused,
 * is not 200, or does not answer within a moment (a cluster's primary keeps a connection it
 * accepted pending until it exits) — rather than a fixed sleep a slow start of the handler
 * could outlast.
 */
async function untilNotReady (url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const answered = await Promise.race([readyOnFreshConnection(url), new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 300))])
    if (answered === undefined || answered === 'pending') return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the server still answered ready 5 s after SIGTERM')
}

/** Waits until `count` statements wait on the lock; fails at once, with its answer, if a request ends instead. */
async function waitForWaiting (count: number, requests: Array<Promise<number | 'refused'>>): Promise<void> {
  const ended: Array<number | 'refused'> = []
  for (const request of requests) request.then((status) => { ended.push(status) }, () => {})
  for (let i = 0; i < 200; i++) {
    if (ended.length > 0) throw new Error(`a request meant to wait on the lock ended first: ${ended.join(', ')}`)
    const [{ waiting }] = await sqlOn(locker)`select count(*)::int as waiting from pg_stat_activity
      where datname = current_database() and application_name = 'jotter' and wait_event_type = 'Lock'`
    if (waiting >= count) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`${count} statements never waited on the lock`)
}

for (const workers of [1, 2]) {
  test(`SIGTERM with WORKERS=${workers}: in-flight requests complete, new ones are refused, exit 0`, () => drains(workers))
}

async function drains (workers: number): Promise<void> {
  const server = await startServer(workers)
  const unlock = await lockNotes()
  try {
    const inFlight = [query(server.url), query(server.url), query(server.url)]
    await waitForWaiting(3, inFlight)
    server.child.kill('SIGTERM')
    await untilNotReady(server.url)
    // Not awaited before unlocking: with a cluster the primary holds the port, and a connection
    // it accepted stays pending until it exits, which waits for the in-flight requests.
    const late = query(server.url)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await unlock()
    const statuses = await Promise.all(inFlight)
    assert.deepEqual(statuses, [200, 200, 200], 'every in-flight request completed')
    assert.equal(await late, 'refused', 'a request after SIGTERM is refused')
    assert.equal(await server.exited, 0)
  } finally {
    // A failed check must not leave the server (and this file's process) running, or the lock held.
    await stop(server, unlock)
  }
}

async function stop (server: { child: ChildProcess, exited: Promise<unknown> }, unlock: () => Promise<void>): Promise<void> {
  await unlock()
  if (server.child.exitCode === null && server.child.signalCode === null) {
    process.kill(-server.child.pid!, 'SIGKILL')
    await server.exited
  }
}

test('a second signal forces exit 1 without waiting for the grace period', async () => {
  const server = await startServer()
  const unlock = await lockNotes()
  try {
    const inFlight = query(server.url)
    await waitForWaiting(1, [inFlight])
    server.child.kill('SIGTERM')
    // Two signals sent before the first is handled would arrive as one.
    await untilNotReady(server.url)
    const started = performance.now()
    server.child.kill('SIGTERM')
    assert.equal(await server.exited, 1)
    assert.ok(performance.now() - started < 3000, 'did not wait for the 5 s grace period')
    assert.equal(await inFlight, 'refused')
  } finally {
    await stop(server, unlock)
  }
})
