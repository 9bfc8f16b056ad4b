/**
 * A server process paused (SIGSTOP) while a note turns PRIVATE with SQL outside it wakes up with
 * the notification unread in one socket and a request waiting in another. Whichever node reads
 * first, the request must not get the note from the caches: the bus sees that timers did not
 * run for longer than PAUSE_LIMIT_MS, flushes, and serves uncached until it has caught up.
 * Then, caught up, the caches serve again (the other side: a hit runs no SQL).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { PAUSE_LIMIT_MS } from '../../src/changes/invalidation-bus.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { freshRequest, startServer, type ServerProcess } from '../helpers/server-process.ts'

let database: TestDatabase
let server: ServerProcess
let token: string

before(async () => {
  database = await createTestDatabase()
  server = await startServer(database.url)
  const signUp = JSON.parse(await freshRequest(server.url, 'POST', '/graphql', JSON.stringify({
    query: 'mutation { signUp(input: { name: "Paula", email: "paula@pause.test", password: "long enough" }) { token } }'
  })))
  token = signUp.data.signUp.token
})
after(async () => {
  if (server?.child.signalCode === null) server.child.kill('SIGCONT')
  await server?.stop()
  await database?.drop()
})

type Answer = { data: { note: { title: string } | null }, extensions: { sqlStatements: number } }

async function anonymousRead (id: string, agent?: Agent): Promise<Answer> {
  const body = JSON.stringify({ query: `{ note(id: "${id}") { title } }` })
  if (agent === undefined) return JSON.parse(await freshRequest(server.url, 'POST', '/graphql', body))
  const response = await request(`${server.url}/graphql`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
  return await response.body.json() as Answer
}

test('paused while a note turns private: on waking it never serves the note from its caches, and caches again once caught up', async () => {
  for (let round = 0; round < 3; round++) {
    const created = JSON.parse(await freshRequest(server.url, 'POST', '/graphql', JSON.stringify({
      query: `mutation { createNote(input: { title: "round ${round}", visibility: PUBLIC }) { id } }`
    }), { authorization: `Bearer ${token}` }))
    const id = created.data.createNote.id as string
    await anonymousRead(id)
    const hit = await anonymousRead(id)
    assert.deepEqual(hit.data, { note: { title: `round ${round}` } })
    assert.equal(hit.extensions.sqlStatements, 0, 'cached before the pause')

    // A kept-alive connection: the paused request's bytes are read in the same event-loop turn
    // as the notification, not a turn later after an accept.
    const agent = new Agent({ connections: 1, pipelining: 1 })
    await anonymousRead(id, agent)
    server.child.kill('SIGSTOP')
    try {
      // The request first, then the change: both wait in the stopped process's sockets, the
      // request's bytes ahead of the notification.
      const answer = anonymousRead(id, agent)
      await new Promise((resolve) => setTimeout(resolve, 100))
      await database.db.sql`update notes set visibility = 'PRIVATE' where id = ${id}`
      await new Promise((resolve) => setTimeout(resolve, PAUSE_LIMIT_MS + 300))
      server.child.kill('SIGCONT')
      assert.deepEqual((await answer).data, { note: null }, `round ${round}: the private note was served after the pause`)
    } finally {
      server.child.kill('SIGCONT')
      await agent.close()
    }

    // Caught up: the private note's "not visible" answer is cached like any other.
    let cached = false
    for (let i = 0; i < 40 && !cached; i++) {
      const again = await anonymousRead(id)
      assert.deepEqual(again.data, { note: null })
      cached = again.extensions.sqlStatements === 0
      if (!cached) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.ok(cached, 'the caches serve again once the bus has caught up')
  }
})
