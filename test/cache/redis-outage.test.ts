/**
 * Redis failing under the cache, with a redis-server this test starts on a free port: killed
 * and restarted, and cut off through a proxy while Redis keeps its data. Requests keep succeeding, the
 * degraded gauge goes to 1 and back to 0 by itself, and an entry that went stale while Redis
 * was unreachable is never served after recovery (the tier gets a new epoch).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { connect, createServer, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { freePort } from '../../tools/free-port.ts'

const haveRedisServer = spawnSync('redis-server', ['--version']).status === 0
const sqlOf = (result: { body: { extensions?: Record<string, unknown> } }): number => result.body.extensions?.sqlStatements as number
const QUERY = '{ notes(first: 50) { id title } }'

describe('Redis down, slow and back', { skip: haveRedisServer ? false : 'redis-server is not installed: Redis outage tests skipped' }, () => {
  let port: number
  let server: ChildProcess
  let database: TestDatabase
  const apps: TestApp[] = []

  before(async () => {
    port = await freePort()
    server = await startRedis(port)
    database = await createTestDatabase()
  })
  after(async () => {
    for (const app of apps) await app.close()
    server?.kill('SIGKILL')
    await database?.drop()
  })

  const appOn = async (): Promise<TestApp> => {
    const app = await startTestApp({ exposeSqlCount: true, redisUrl: `redis://127.0.0.1:${port}`, deploymentId: 'outage-test', cacheClockSkewMs: 0, redisCommandTimeoutMs: 50 }, { database })
    apps.push(app)
    return app
  }
  const degraded = async (app: TestApp): Promise<number> => (await app.app.responseCache!.cache.metrics.redisDegraded.get()).values[0]?.value ?? 0

  test('killed and restarted: requests succeed throughout, degraded 1 then 0', async () => {
    const app = await appOn()
    const user = await app.signUp('Writer')
    await app.gql(QUERY)
    assert.equal(sqlOf(await app.gql(QUERY)), 0)

    server.kill('SIGKILL')
    await waitFor(async () => {
      const result = await app.gql(QUERY)
      assert.equal(result.status, 200)
      return await degraded(app) === 1
    }, 'degraded gauge to reach 1')
    const created = await app.gql('mutation { createNote(input: { title: "during outage", visibility: PUBLIC }) { id } }', { token: user.token })
    assert.equal(created.status, 200)
    const during = await app.gql(QUERY)
    assert.ok(during.body.data.notes.some((n: { title: string }) => n.title === 'during outage'), 'memory tier must still be invalidated')

    server = await startRedis(port)
    await waitFor(async () => await degraded(app) === 0, 'degraded gauge to return to 0')
    await app.gql(QUERY)
    const hit = await app.gql(QUERY)
    assert.equal(sqlOf(hit), 0)
    assert.ok(hit.body.data.notes.some((n: { title: string }) => n.title === 'during outage'))
    const errors = (await app.app.responseCache!.cache.metrics.redisErrors.get()).values[0].value
    assert.ok(errors > 0)
  })

  test('cut off: an invalidation lost while Redis was unreachable never lets a stale entry back', async (t) => {
    // The writer reaches Redis through a proxy we can cut; Redis itself keeps running with
    // its data, so the entry the writer could not invalidate is still in it.
    const proxy = await startProxy(port)
    t.after(() => proxy.close()) // on every path: an open proxy would keep this file's process alive
    const writer = await startTestApp({ exposeSqlCount: true, redisUrl: `redis://127.0.0.1:${proxy.port}`, deploymentId: 'outage-test', cacheClockSkewMs: 0, redisCommandTimeoutMs: 50 }, { database })
    apps.push(writer)
    const reader = await appOn()
    const user = await writer.signUp('CutOff')
    await writer.gql(QUERY, { headers: { 'cache-control': 'no-cache' } })
    await writer.gql(QUERY)
    assert.equal(sqlOf(await reader.gql(QUERY)), 0, 'reader must get the entry from the shared tier')

    proxy.cut()
    await writer.gql('mutation { createNote(input: { title: "while cut off", visibility: PUBLIC }) { id } }', { token: user.token })
    await waitFor(async () => await degraded(writer) === 1, 'writer to degrade')
    assert.ok((await writer.gql(QUERY)).body.data.notes.some((n: { title: string }) => n.title === 'while cut off'))

    proxy.restore()
    await waitFor(async () => await degraded(writer) === 0, 'writer to recover')
    const fresh = (await writer.gql(QUERY, { headers: { 'cache-control': 'no-cache' } })).body.data
    await waitFor(async () => JSON.stringify((await reader.gql(QUERY)).body.data) === JSON.stringify(fresh), 'reader to drop its stale memory entry')
    // A process started after recovery has an empty memory tier: only Redis could be stale.
    const newcomer = await appOn()
    assert.deepEqual((await newcomer.gql(QUERY)).body.data, fresh)
  })
})

// Private:

/** A TCP proxy to Redis that can be cut (every connection dropped, new ones refused) and restored. */
async function startProxy (targetPort: number): Promise<{ port: number, cut (): void, restore (): void, close (): Promise<void> }> {
  const sockets = new Set<Socket>()
  let open = true
  const server = createServer((client) => {
    if (!open) return client.destroy()
    const upstream = connect(targetPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {})
    }
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    cut () {
      open = false
      for (const socket of sockets) socket.destroy()
    },
    restore () { open = true },
    close: () => new Promise((resolve) => { for (const socket of sockets) socket.destroy(); server.close(() => resolve()) })
  }
}

async function startRedis (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  await waitFor(async () => {
    try {
      await probe.connect()
      return await probe.ping() === 'PONG'
    } catch {
      return false
    }
  }, `redis-server on port ${port}`)
  probe.disconnect()
  return child
}

async function waitFor (check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}
