/**
 * Two server processes sharing PostgreSQL and a redis-server this test starts on a free port,
 * CACHE_TTL_MS=1000. An anonymous reader's answers are cached on B (both tiers); Redis is
 * killed; the author makes the note PRIVATE and renames it on A (the write succeeds). Within
 * the bound nobody else sees the note on B (alone, in lists, in counts), the author sees the
 * new title on B, and counts and lists agree. Redis back (empty or not), nothing older
 * comes back.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { freePort } from '../../tools/free-port.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { gqlFresh, startServer, waitUntil, type ServerProcess } from '../helpers/server-process.ts'

const haveRedisServer = spawnSync('redis-server', ['--version']).status === 0
/** The bus delivers in milliseconds; this is what the test allows. */
const BOUND_MS = 1000

describe('two servers, Redis killed between a read and a write', { skip: haveRedisServer ? false : 'redis-server is not installed: skipped' }, () => {
  let database: TestDatabase
  let redisPort: number
  let redis: ChildProcess | undefined
  const servers: ServerProcess[] = []

  before(async () => {
    database = await createTestDatabase()
    redisPort = await freePort()
    redis = await startRedis(redisPort)
    for (let i = 0; i < 2; i++) {
      servers.push(await startServer(database.url, {
        env: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, DEPLOYMENT_ID: database.name, CACHE_TTL_MS: '1000', CACHE_CLOCK_SKEW_MS: '0' }
      }))
    }
  })
  after(async () => {
    for (const server of servers) await server.stop()
    redis?.kill('SIGKILL')
    await database?.drop()
  })

  test('after the bound: the now-private note is gone for others on B, the author sees the new title, counts and lists agree', async () => {
    const [a, b] = servers
    const signUp = await gqlFresh(a.url, 'mutation { signUp(input: { name: "Writer", email: "w@redis.test", password: "long enough" }) { token user { id } } }')
    const token = signUp.data.signUp.token as string
    const authorId = signUp.data.signUp.user.id as string
    const id = (await gqlFresh(a.url, 'mutation { createNote(input: { title: "public title", body: "public body", visibility: PUBLIC }) { id } }', { token })).data.createNote.id as string
    const noteQuery = `{ note(id: "${id}") { title body } }`
    const listQuery = `{ notes { id title } user(id: "${authorId}") { noteCount notes { id title } } }`
    for (const [query, viewer] of [[noteQuery, undefined], [listQuery, undefined], [noteQuery, token]] as const) {
      await gqlFresh(b.url, query, { token: viewer })
      assert.equal((await gqlFresh(b.url, query, { token: viewer })).extensions?.sqlStatements, 0, 'cached on B before the write')
    }

    redis!.kill('SIGKILL')
    const written = await gqlFresh(a.url, `mutation { updateNote(id: "${id}", input: { visibility: PRIVATE, title: "private title" }) { title } }`, { token })
    assert.equal(written.data.updateNote.title, 'private title')

    await waitUntil(async () => (await gqlFresh(b.url, noteQuery)).data.note === null, BOUND_MS, 'B to hide the note from anonymous readers', 5)
    const lists = (await gqlFresh(b.url, listQuery)).data
    assert.ok(!lists.notes.some((n: { id: string }) => n.id === id), 'still in the anonymous list on B')
    assert.equal(lists.user.noteCount, 0)
    assert.deepEqual(lists.user.notes, [], 'count and list agree')
    assert.deepEqual((await gqlFresh(b.url, noteQuery, { token })).data.note, { title: 'private title', body: 'public body' })
    const authorLists = (await gqlFresh(b.url, listQuery, { token })).data
    assert.equal(authorLists.user.noteCount, 1)
    assert.deepEqual(authorLists.user.notes, [{ id, title: 'private title' }])

    // Redis back: whatever it holds or gets, B never serves the old answer.
    redis = await startRedis(redisPort)
    await new Promise((resolve) => setTimeout(resolve, 1200))
    for (let i = 0; i < 3; i++) {
      assert.equal((await gqlFresh(b.url, noteQuery)).data.note, null)
      assert.equal((await gqlFresh(a.url, noteQuery)).data.note, null)
    }
  })
})

// Private:

async function startRedis (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    await waitUntil(async () => {
      await probe.connect().catch(() => {})
      return await probe.ping() === 'PONG'
    }, 10_000, `redis-server on port ${port}`, 50)
  } finally {
    probe.disconnect()
  }
  return child
}
