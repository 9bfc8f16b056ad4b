/**
 * WORKERS=2 without Redis: a mutation handled by one worker is seen at once by the worker that
 * ran it (its caches drop before the response leaves), and by the other worker as soon as the
 * PostgreSQL notification reaches it (bounded, milliseconds), after which no read is stale,
 * whichever worker answers it.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { freshRequest, gqlFresh, startServer, waitUntil, type ServerProcess } from '../helpers/server-process.ts'

/** How long the other worker may lag the writer's response (the bus delivers in ~1 ms). */
const BOUND_MS = 1000

let database: TestDatabase
let server: ServerProcess | undefined
before(async () => {
  database = await createTestDatabase()
  server = await startServer(database.url, { workers: 2 })
})
after(async () => {
  await server?.stop()
  await database.drop()
})

test('the writer\'s worker is fresh at once, every worker within the bound, and stays fresh', async () => {
  const url = server!.url
  const signUp = await gqlFresh(url, 'mutation { signUp(input: { name: "Ann", email: "ann@cluster.test", password: "long enough" }) { token } }')
  const token = signUp.data.signUp.token as string
  const created = await gqlFresh(url, 'mutation { createNote(input: { title: "v0", visibility: PUBLIC }) { id } }', { token })
  const id = created.data.createNote.id as string
  // One kept-alive connection: always the same worker, the writer's.
  const writer = new Agent({ connections: 1, pipelining: 1 })
  const onWriter = async (query: string): Promise<any> => {
    const response = await request(`${url}/graphql`, {
      method: 'POST', dispatcher: writer, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query })
    })
    return response.body.json()
  }
  const read = async (): Promise<string> => JSON.parse(await freshRequest(url, 'POST', '/graphql', JSON.stringify({ query: '{ notes { id title } }' }))).data.notes[0].title
  try {
    const pids = new Set<number>()
    for (let version = 1; version <= 3; version++) {
      // Fresh connections spread over both workers, and both now hold the response in cache.
      for (let i = 0; i < 12; i++) {
        assert.equal(await read(), `v${version - 1}`)
        pids.add((JSON.parse(await freshRequest(url, 'GET', '/health/live')) as { pid: number }).pid)
      }
      await onWriter('{ notes { id title } }')
      const written = await onWriter(`mutation { updateNote(id: "${id}", input: { title: "v${version}" }) { id } }`)
      assert.equal(written.errors, undefined)
      const own = await onWriter('{ notes { id title } }')
      assert.equal(own.data.notes[0].title, `v${version}`, 'the writer\'s own worker served a stale read right after its response')
      const tookMs = await waitUntil(async () => {
        for (let i = 0; i < 4; i++) if (await read() !== `v${version}`) return false
        return true
      }, BOUND_MS, `both workers to see v${version}`, 5)
      assert.ok(tookMs < BOUND_MS)
      for (let i = 0; i < 12; i++) assert.equal(await read(), `v${version}`, `stale read after update ${version}`)
    }
    assert.equal(pids.size, 2, 'reads reached both workers')
  } finally {
    await writer.close()
  }
})
