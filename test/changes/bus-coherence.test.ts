/**
 * Writes from anywhere reach every cache: two server processes share one PostgreSQL (no
 * Redis); changes made with SQL outside the servers (a visibility flip, a rename, a demotion,
 * a user deletion) are seen by both within 1 s, through the response cache and the row cache
 * alike. The listener's connection killed with pg_terminate_backend: caches are flushed, no
 * stale read is served, and the bus listens again by itself. Also measures the delivery delay
 * (trigger → every cache of a process dropped it) from the servers' own histogram.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { withTransaction, type TrustedSql } from '../../src/db/trusted-sql.ts'
import { createTokenService } from '../../src/auth/tokens.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { busListeningOf, freshRequest, gqlFresh, startServer, waitUntil, type ServerProcess } from '../helpers/server-process.ts'
import { metricSum } from '../helpers/metrics.ts'

const WITHIN_MS = 1000
const tokens = createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 3600 })

describe('changes made outside the servers', () => {
  let database: TestDatabase
  let sql: TrustedSql
  const servers: ServerProcess[] = []
  let author: { id: string, token: string }
  let reader: { id: string, token: string }
  let noteId: string

  before(async () => {
    database = await createTestDatabase()
    sql = database.db.sql
    for (let i = 0; i < 2; i++) servers.push(await startServer(database.url))
    const [a] = servers
    for (const [name, target] of [['Author', 'author'], ['Reader', 'reader']] as const) {
      const body = await gqlFresh(a.url, `mutation { signUp(input: { name: "${name}", email: "${target}@bus.test", password: "long enough" }) { token user { id } } }`)
      const user = { id: body.data.signUp.user.id as string, token: body.data.signUp.token as string }
      if (target === 'author') author = user
      else reader = user
    }
    noteId = (await gqlFresh(a.url, 'mutation { createNote(input: { title: "first", visibility: PUBLIC, tags: ["t1"] }) { id } }', { token: author.token })).data.createNote.id
  })
  after(async () => {
    for (const server of servers) await server.stop()
    await database?.drop()
  })

  /** Reads until cached (a second answer runs no SQL) on every server. */
  async function primed (query: string, token?: string): Promise<void> {
    for (const server of servers) {
      await gqlFresh(server.url, query, { token })
      const again = await gqlFresh(server.url, query, { token })
      assert.equal(again.extensions?.sqlStatements, 0, `${query} was not cached on ${server.url}`)
    }
  }

  /** Every server answers `expected` within WITHIN_MS of now; returns the slowest time. */
  async function everyServerSees (query: string, token: string | undefined, expected: (body: any) => boolean, what: string): Promise<number> {
    const times = await Promise.all(servers.map((server) => waitUntil(async () => expected(await gqlFresh(server.url, query, { token })), WITHIN_MS, `${what} on ${server.url}`, 5)))
    return Math.max(...times)
  }

  const noteQuery = `{ note(id: "${'ID'}") { id title visibility tags { name } } }`
  const noteOf = (id: string): string => noteQuery.replace('ID', id)

  test('a visibility flip made with SQL hides the note from every other viewer on every server, within 1 s', async () => {
    const queries = [noteOf(noteId), '{ notes { id } }', `{ user(id: "${author.id}") { noteCount notes { id } } }`, '{ tag(name: "t1") { name } }']
    for (const query of queries) {
      await primed(query)
      await primed(query, reader.token)
    }
    await sql`update notes set visibility = 'PRIVATE' where id = ${noteId}`
    for (const token of [undefined, reader.token]) {
      await everyServerSees(queries[0], token, (body) => body.data.note === null, 'the note hidden')
      await everyServerSees(queries[1], token, (body) => !body.data.notes.some((n: { id: string }) => n.id === noteId), 'the note out of the list')
      await everyServerSees(queries[2], token, (body) => body.data.user.noteCount === 0 && body.data.user.notes.length === 0, 'count and list agreeing')
      await everyServerSees(queries[3], token, (body) => body.data.tag === null, 'its only tag hidden')
    }
    await everyServerSees(queries[0], author.token, (body) => body.data.note?.visibility === 'PRIVATE', 'the author still sees it')
    await sql`update notes set visibility = 'PUBLIC' where id = ${noteId}`
    await everyServerSees(queries[0], undefined, (body) => body.data.note?.id === noteId, 'the note visible again')
  })

  test('a rename of a note and of a user made with SQL reaches every cache within 1 s', async () => {
    const query = `{ note(id: "${noteId}") { title author { name } } }`
    await primed(query)
    await sql`update notes set title = 'renamed by sql' where id = ${noteId}`
    await sql`update users set name = 'Renamed Author' where id = ${author.id}`
    await everyServerSees(query, undefined, (body) => body.data.note.title === 'renamed by sql' && body.data.note.author.name === 'Renamed Author', 'both renames')
  })

  test('a demotion made with SQL takes the admin\'s reach away within 1 s, with the token issued before', async () => {
    const admin = await gqlFresh(servers[0].url, 'mutation { signUp(input: { name: "Boss", email: "boss@bus.test", password: "long enough" }) { user { id } } }')
    const adminId = admin.data.signUp.user.id as string
    await sql`update users set role = 'admin' where id = ${adminId}`
    const adminToken = await tokens.issue(adminId, 'admin')
    const privateId = (await gqlFresh(servers[0].url, 'mutation { createNote(input: { title: "secret" }) { id } }', { token: author.token })).data.createNote.id
    await everyServerSees(noteOf(privateId), adminToken, (body) => body.data.note?.title === 'secret', 'the admin reading a private note')
    await primed(noteOf(privateId), adminToken)
    await sql`update users set role = 'user' where id = ${adminId}`
    await everyServerSees(noteOf(privateId), adminToken, (body) => body.data.note === null, 'the demoted admin no longer reading it')
  })

  test('a user deleted with SQL: their token stops working on every server within 1 s', async () => {
    const gone = await gqlFresh(servers[0].url, 'mutation { signUp(input: { name: "Gone", email: "gone@bus.test", password: "long enough" }) { token user { id } } }')
    const token = gone.data.signUp.token as string
    await primed('{ me { id name } }', token)
    await sql`delete from users where id = ${gone.data.signUp.user.id}`
    for (const server of servers) {
      await waitUntil(async () => {
        try {
          await freshRequest(server.url, 'POST', '/graphql', JSON.stringify({ query: '{ me { id } }' }), { authorization: `Bearer ${token}` })
          return false
        } catch (error) {
          return /401/.test((error as Error).message)
        }
      }, WITHIN_MS, 'a 401 for the deleted user\'s token', 5)
    }
  })

  test('the listener killed with pg_terminate_backend: caches flushed, no stale read, listening again by itself', async () => {
    const query = noteOf(noteId)
    await primed(query)
    const listeners = async (): Promise<number[]> => (await sql<{ pid: number }>`
      select pid from pg_stat_activity where datname = current_database() and application_name = 'jotter-cache-bus'`).map((row) => row.pid)
    const before = await listeners()
    assert.equal(before.length, servers.length, 'one listening connection per process')
    // The change lands while nobody listens: only the flush on reconnection can save the caches.
    // pg_terminate_backend only signals; with a timeout it waits for each listener to have exited
    // (and so to have closed its connection), otherwise the change could commit, and this test
    // read, while a signalled listener was still on its way out and its server not yet told.
    await withTransaction(database.db.pool, async (tx) => {
      const ended = await tx<{ ended: boolean }>`select pg_terminate_backend(pid, 5000) as ended from pg_stat_activity where datname = current_database() and application_name = 'jotter-cache-bus'`
      assert.deepEqual(ended.map((row) => row.ended), servers.map(() => true), 'every listener ended')
      await tx`update notes set title = 'changed while deaf' where id = ${noteId}`
    })
    for (const server of servers) {
      const body = await gqlFresh(server.url, query)
      assert.equal(body.data.note.title, 'changed while deaf', 'a stale read right after the listener was killed')
    }
    for (const server of servers) {
      await waitUntil(async () => busListeningOf(await freshRequest(server.url, 'GET', '/metrics')) === 1, 10_000, 'the bus listening again')
      await gqlFresh(server.url, query)
      assert.equal((await gqlFresh(server.url, query)).extensions?.sqlStatements, 0, 'cached again once listening')
    }
    const after = await listeners()
    assert.equal(after.length, servers.length)
    assert.ok(after.every((pid) => !before.includes(pid)), 'new connections')
    const losses = await Promise.all(servers.map(async (server) => metricSum(await freshRequest(server.url, 'GET', '/metrics'), 'jotter_cache_bus_losses_total')))
    assert.deepEqual(losses, [1, 1])
  })

  test('a mutation through one server: it alone waits for its own commit; every server counts the entries and rows it dropped', async () => {
    const query = `{ note(id: "${noteId}") { id title body } }`
    await primed(query)
    const read = async (): Promise<Array<{ waits: number, entries: number, rows: number }>> => Promise.all(servers.map(async (server) => {
      const text = await freshRequest(server.url, 'GET', '/metrics')
      return {
        waits: metricSum(text, 'jotter_cache_bus_own_commit_wait_seconds_count'),
        entries: metricSum(text, 'jotter_cache_invalidated_entries_total'),
        rows: metricSum(text, 'jotter_row_cache_invalidated_total')
      }
    }))
    const before = await read()
    await gqlFresh(servers[0].url, `mutation { updateNote(id: "${noteId}", input: { body: "changed through the API" }) { id } }`, { token: author.token })
    // Not a test of delivery time (the others are): a generous bound, so only the counts decide.
    for (const server of servers) await waitUntil(async () => (await gqlFresh(server.url, query)).data.note.body === 'changed through the API', 10_000, `the new body on ${server.url}`, 5)
    const after = await read()
    assert.deepEqual(after.map((counts, i) => counts.waits - before[i].waits), [1, 0], 'the writer waited once for its own commit; the other server never waits')
    for (const [i, counts] of after.entries()) {
      assert.ok(counts.entries - before[i].entries >= 1, `server ${i}: the cached answer was dropped and counted (${before[i].entries} → ${counts.entries})`)
      assert.ok(counts.rows - before[i].rows >= 1, `server ${i}: the note's cached row was dropped and counted (${before[i].rows} → ${counts.rows})`)
    }
  })

  test('delivery delay across processes (trigger to caches dropped): measured and reported', async (context) => {
    for (let i = 0; i < 200; i++) {
      await sql`update notes set body = ${String(i)} where id = ${noteId}`
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    for (const server of servers) {
      let text = ''
      const observed = async (): Promise<number> => {
        text = await freshRequest(server.url, 'GET', '/metrics')
        return histogramQuantiles(text, 'jotter_cache_bus_delay_seconds').count
      }
      await waitUntil(async () => await observed() >= 200, 10_000, `200 delays observed on ${server.url}`).catch(() => {})
      const { count, p50, p99 } = histogramQuantiles(text, 'jotter_cache_bus_delay_seconds')
      assert.ok(count >= 200, `delays observed: ${count}`)
      context.diagnostic(`${server.url}: ${count} notifications; delay p50 <= ${p50 * 1000} ms, p99 <= ${p99 * 1000} ms (bucket bounds)`)
    }
  })
})

// Private:

/** Upper bucket bounds holding the 50th and 99th percentiles of a Prometheus histogram. */
function histogramQuantiles (text: string, name: string): { count: number, p50: number, p99: number } {
  const buckets = text.split('\n').filter((l) => l.startsWith(`${name}_bucket`)).map((l) => {
    const le = /le="([^"]+)"/.exec(l)![1]
    return { le: le === '+Inf' ? Infinity : Number(le), cumulative: Number(l.split(' ').pop()) }
  })
  const count = buckets.at(-1)?.cumulative ?? 0
  const at = (q: number): number => buckets.find((b) => b.cumulative >= q * count)?.le ?? Infinity
  return { count, p50: at(0.5), p99: at(0.99) }
}
