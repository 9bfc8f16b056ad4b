/**
 * Property, across real processes: two servers with WORKERS=2 each and no Redis (four caching
 * processes) share one PostgreSQL. Random viewers read while random mutations run through
 * random workers. Checked:
 *  - 0 items a viewer may not see: every note shown to a non-author, non-admin viewer was
 *    PUBLIC at some moment between BOUND_MS before the read started and its end;
 *  - 0 stale reads in the writer's own process right after its response (read on the same
 *    kept-alive connection, so the same worker);
 *  - 0 stale reads once BOUND_MS has passed after the mutations: every query, every viewer,
 *    every worker equals an uncached execution (an in-process app with the cache off).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { Agent, request } from 'undici'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { freshRequest, startServer, type ServerProcess } from '../helpers/server-process.ts'
import { couldBePublic } from '../helpers/visibility-history.ts'

/**
 * The staleness bound across processes this test holds the caches to. The bus takes ~1 ms
 * (docs/caching.md); the margin is for a 2-core machine where four servers, PostgreSQL and the
 * test share the cores and a process may not run for a few hundred ms.
 */
const BOUND_MS = 1000
const TAGS = ['red', 'blue']

interface Viewer { name: string, id: string | null, token: string | undefined, admin: boolean }
interface NoteState { id: string, authorId: string, initial: 'PUBLIC' | 'PRIVATE', events: Array<{ start: number, end: number, to: 'PUBLIC' | 'PRIVATE' }> }

let database: TestDatabase
let reference: TestApp
const servers: ServerProcess[] = []
const viewers: Viewer[] = []
const notes: NoteState[] = []
const counters = { reads: 0, checkedItems: 0, finalReads: 0, ownReads: 0 }

const queries = [
  (n: NoteState) => `{ note(id: "${n.id}") { id title visibility tags { name } } }`,
  () => '{ notes(first: 50) { id title visibility } }',
  (n: NoteState) => `{ user(id: "${n.authorId}") { noteCount notes(first: 50) { id title } } }`,
  () => `{ notes(tag: "${TAGS[0]}") { id title } }`,
  () => `{ tag(name: "${TAGS[1]}") { name notes { id } } }`
]

before(async () => {
  database = await createTestDatabase()
  reference = await startTestApp({ cacheEnabled: false }, { database })
  for (const name of ['A1', 'A2', 'Boss']) {
    const user = await reference.signUp(name)
    viewers.push({ name, id: user.id, token: user.token, admin: false })
  }
  viewers[2] = { ...viewers[2], token: await reference.promoteToAdmin(viewers[2].id!), admin: true }
  viewers.push({ name: 'anonymous', id: null, token: undefined, admin: false })
  for (const author of viewers.slice(0, 2)) {
    for (let i = 0; i < 4; i++) {
      const initial = i % 2 === 0 ? 'PUBLIC' : 'PRIVATE'
      const created = await reference.gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }',
        { token: author.token, variables: { input: { title: `t${i}`, visibility: initial, tags: [TAGS[i % 2]] } } })
      notes.push({ id: created.body.data.createNote.id, authorId: author.id!, initial, events: [] })
    }
  }
  for (let i = 0; i < 2; i++) servers.push(await startServer(database.url, { workers: 2 }))
})
after(async () => {
  for (const server of servers) await server.stop()
  await reference?.close()
  await database?.drop()
})

const mutationArb = fc.record({ note: fc.nat(7), server: fc.nat(1), title: fc.option(fc.stringMatching(/^[a-z]{1,6}$/), { nil: undefined }), flip: fc.boolean(), retag: fc.boolean() })
const readArb = fc.record({ viewer: fc.nat(3), query: fc.nat(queries.length - 1), note: fc.nat(7), server: fc.nat(1), delayMs: fc.nat(20) })
const roundArb = fc.record({ mutations: fc.uniqueArray(mutationArb, { minLength: 1, maxLength: 4, selector: (m) => m.note }), reads: fc.array(readArb, { minLength: 4, maxLength: 16 }) })

test('random viewers and mutations over four caching processes: nothing invisible, nothing stale past the bound', async (context) => {
  await fc.assert(fc.asyncProperty(fc.array(roundArb, { minLength: 2, maxLength: 3 }), async (rounds) => {
    for (const round of rounds) {
      await Promise.all([
        ...round.mutations.map(mutate),
        ...round.reads.map(async (r) => {
          await new Promise((resolve) => setTimeout(resolve, r.delayMs))
          await concurrentRead(r)
        })
      ])
      await new Promise((resolve) => setTimeout(resolve, BOUND_MS))
      await everythingFresh()
    }
  }), { numRuns: 4, endOnFailure: true }) // no shrinking: each run drives four processes
  context.diagnostic(`reads during mutations: ${counters.reads} (${counters.checkedItems} items checked), writer's own reads: ${counters.ownReads}, reads after the bound: ${counters.finalReads}`)
  assert.ok(counters.checkedItems > 0 && counters.finalReads > 0 && counters.ownReads > 0, 'the property checked nothing')
})

// Private:

async function mutate (m: { note: number, server: number, title?: string, flip: boolean, retag: boolean }): Promise<void> {
  const note = notes[m.note]
  const author = viewers.find((v) => v.id === note.authorId)!
  // One connection, so one worker: it caches the note, runs the mutation, and must not be stale after.
  const agent = new Agent({ connections: 1, pipelining: 1 })
  const post = async (query: string, variables?: Record<string, unknown>): Promise<any> => {
    const response = await request(`${servers[m.server].url}/graphql`, {
      method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${author.token}` }, body: JSON.stringify({ query, variables })
    })
    const body = await response.body.json() as { errors?: unknown }
    assert.equal(body.errors, undefined, JSON.stringify(body.errors))
    return body
  }
  try {
    const own = `{ note(id: "${note.id}") { title visibility tags { name } } }`
    const before = (await post(own)).data.note
    const to = m.flip ? (before.visibility === 'PUBLIC' ? 'PRIVATE' : 'PUBLIC') : before.visibility
    const input = { title: m.title, visibility: m.flip ? to : undefined, tags: m.retag ? [TAGS[Math.floor(Math.random() * 2)]] : undefined }
    // Known before it is sent: a concurrent read may see the commit before this request's answer.
    const event = { start: performance.now(), end: Number.POSITIVE_INFINITY, to }
    if (m.flip) note.events.push(event)
    const written = (await post('mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { title visibility tags { name } } }', { id: note.id, input })).data.updateNote
    event.end = performance.now()
    const after = (await post(own)).data.note
    counters.ownReads++
    assert.deepEqual(after, written, 'a stale read in the writer\'s own process right after its response')
  } finally {
    await agent.close()
  }
}

async function concurrentRead (r: { viewer: number, query: number, note: number, server: number }): Promise<void> {
  const viewer = viewers[r.viewer]
  const started = performance.now()
  const body = JSON.parse(await freshRequest(servers[r.server].url, 'POST', '/graphql', JSON.stringify({ query: queries[r.query](notes[r.note]) }),
    viewer.token ? { authorization: `Bearer ${viewer.token}` } : {}))
  const ended = performance.now()
  assert.equal(body.errors, undefined, JSON.stringify(body.errors))
  counters.reads++
  if (viewer.admin) return
  for (const id of noteIdsIn(body.data)) {
    const note = notes.find((n) => n.id === id)
    if (note === undefined || note.authorId === viewer.id) continue
    counters.checkedItems++
    assert.ok(couldBePublic(note, started - BOUND_MS, ended), `note ${id} shown to ${viewer.name} while PRIVATE for longer than ${BOUND_MS} ms`)
  }
}

/** Past the bound: every query, for every viewer, from every worker, equals an uncached execution. */
async function everythingFresh (): Promise<void> {
  for (const viewer of viewers) {
    for (const [index, query] of queries.entries()) {
      const text = query(notes[index])
      const truth = await reference.gql(text, { token: viewer.token })
      for (const server of servers) {
        // Fresh connections alternate between the two workers.
        for (let i = 0; i < 2; i++) {
          const body = JSON.parse(await freshRequest(server.url, 'POST', '/graphql', JSON.stringify({ query: text }), viewer.token ? { authorization: `Bearer ${viewer.token}` } : {}))
          counters.finalReads++
          assert.deepEqual(body.data, truth.body.data, `stale after ${BOUND_MS} ms: ${viewer.name} on ${server.url}: ${text}`)
        }
      }
    }
  }
}

function noteIdsIn (data: unknown, underNote = false, ids: string[] = []): string[] {
  if (Array.isArray(data)) { for (const item of data) noteIdsIn(item, underNote, ids); return ids }
  if (data === null || typeof data !== 'object') return ids
  for (const [key, value] of Object.entries(data)) {
    if (key === 'id' && underNote && typeof value === 'string') ids.push(value)
    else noteIdsIn(value, key === 'note' || key === 'notes', ids)
  }
  return ids
}
