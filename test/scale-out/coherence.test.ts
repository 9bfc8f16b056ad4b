/**
 * Property, through the whole scale-out topology (HAProxy, two instances, PgBouncer in
 * transaction pooling, the shared Redis tier): random viewers read while random visibility
 * flips and renames run, each request landing on whichever instance HAProxy picks. Checked:
 *  - 0 notes shown to a viewer who may not see them: every note shown to a non-author was
 *    PUBLIC at some moment between BOUND_MS before the read started and its end;
 *  - 0 stale reads once BOUND_MS has passed: every viewer's answers, from both instances,
 *    equal what the database says.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { sqlOn } from '../../src/db/trusted-sql.ts'
import pg from 'pg'
import { scaleOutSkip, startScaleOutFixture, type ScaleOutFixture } from './scale-out-fixture.ts'
import { couldBePublic } from '../helpers/visibility-history.ts'

/** The bus takes milliseconds (docs/caching.md); the margin is for two shared cores. */
const BOUND_MS = 1000

interface Viewer { name: string, id: string | null, token: string | undefined }
interface NoteState { id: string, authorId: string, events: Array<{ start: number, end: number, to: 'PUBLIC' | 'PRIVATE' }>, initial: 'PUBLIC' | 'PRIVATE' }

describe('caches stay coherent across instances behind HAProxy', { skip: scaleOutSkip }, () => {
  let fixture: ScaleOutFixture
  let direct: pg.Pool
  const viewers: Viewer[] = []
  const notes: NoteState[] = []
  let checked = 0

  before(async () => {
    fixture = await startScaleOutFixture({ instances: 2 })
    direct = new pg.Pool({ connectionString: fixture.topology.directDatabaseUrl, max: 2 })
    for (const name of ['Ann', 'Ben']) {
      const body = await gql(`mutation { signUp(input: { name: "${name}", email: "${name}@coherence.test", password: "long enough" }) { token user { id } } }`)
      viewers.push({ name, id: body.data.signUp.user.id, token: body.data.signUp.token })
    }
    viewers.push({ name: 'anonymous', id: null, token: undefined })
    for (const author of viewers.slice(0, 2)) {
      for (let i = 0; i < 3; i++) {
        const initial = i % 2 === 0 ? 'PUBLIC' : 'PRIVATE'
        const body = await gql(`mutation { createNote(input: { title: "n${i}", visibility: ${initial} }) { id } }`, author.token)
        notes.push({ id: body.data.createNote.id, authorId: author.id!, initial, events: [] })
      }
    }
  })
  after(async () => {
    await direct?.end()
    await fixture?.stop()
  })

  async function gql (query: string, token?: string): Promise<any> {
    const response = await fetch(fixture.topology.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query })
    })
    const body = await response.json() as { errors?: unknown }
    assert.equal(body.errors, undefined, JSON.stringify(body.errors))
    return body
  }

  const mutationArb = fc.record({ note: fc.nat(5), flip: fc.boolean(), title: fc.stringMatching(/^[a-z]{1,5}$/) })
  const readArb = fc.record({ viewer: fc.nat(2), note: fc.nat(5), list: fc.boolean(), delayMs: fc.nat(30) })
  const roundArb = fc.record({ mutations: fc.uniqueArray(mutationArb, { minLength: 1, maxLength: 3, selector: (m) => m.note }), reads: fc.array(readArb, { minLength: 6, maxLength: 16 }) })

  test('nothing invisible during changes, nothing stale past the bound, whichever instance answers', async () => {
    await fc.assert(fc.asyncProperty(fc.array(roundArb, { minLength: 1, maxLength: 2 }), async (rounds) => {
      for (const round of rounds) {
        await Promise.all([
          ...round.mutations.map(async (m) => {
            const note = notes[m.note]
            const author = viewers.find((v) => v.id === note.authorId)!
            const current = stateAt(note, Number.POSITIVE_INFINITY)
            const to = m.flip ? (current === 'PUBLIC' ? 'PRIVATE' : 'PUBLIC') : current
            // Known before it is sent: a read may see the commit before this request's answer.
            const event = { start: performance.now(), end: Number.POSITIVE_INFINITY, to }
            if (m.flip) note.events.push(event)
            await gql(`mutation { updateNote(id: "${note.id}", input: { title: "${m.title}", visibility: ${to} }) { id } }`, author.token)
            event.end = performance.now()
          }),
          ...round.reads.map(async (r) => {
            await new Promise((resolve) => setTimeout(resolve, r.delayMs))
            const viewer = viewers[r.viewer]
            const started = performance.now()
            const body = await gql(r.list ? '{ notes(first: 50) { id } }' : `{ note(id: "${notes[r.note].id}") { id } }`, viewer.token)
            const ended = performance.now()
            const shown = r.list ? body.data.notes.map((n: { id: string }) => n.id) : body.data.note === null ? [] : [body.data.note.id]
            for (const id of shown) {
              const note = notes.find((n) => n.id === id)!
              if (note.authorId === viewer.id) continue
              checked++
              assert.ok(couldBePublic(note, started - BOUND_MS, ended), `note ${id} shown to ${viewer.name} while PRIVATE for longer than ${BOUND_MS} ms`)
            }
          })
        ])
        await new Promise((resolve) => setTimeout(resolve, BOUND_MS))
        await everyInstanceFresh()
      }
    }), { numRuns: 3, endOnFailure: true })
    assert.ok(checked > 0, 'the property checked nothing')
  })

  /** Past the bound, each viewer's list and notes from both instances are the database's. */
  async function everyInstanceFresh (): Promise<void> {
    const rows = await sqlOn(direct)<{ id: string, authorId: string, title: string, visibility: string }>`
      select id, author_id as "authorId", title, visibility from notes order by id`
    for (const viewer of viewers) {
      const visible = rows.filter((row) => row.visibility === 'PUBLIC' || row.authorId === viewer.id)
      // Round robin: consecutive requests alternate between the two instances.
      for (let i = 0; i < 2; i++) {
        const list = await gql('{ notes(first: 50) { id title visibility } }', viewer.token)
        assert.deepEqual(list.data.notes, visible.map(({ id, title, visibility }) => ({ id, title, visibility })), `stale list for ${viewer.name}`)
        for (const row of rows) {
          const one = await gql(`{ note(id: "${row.id}") { title visibility } }`, viewer.token)
          const expected = visible.includes(row) ? { title: row.title, visibility: row.visibility } : null
          assert.deepEqual(one.data.note, expected, `stale note ${row.id} for ${viewer.name}`)
        }
      }
    }
  }
})

function stateAt (note: NoteState, at: number): 'PUBLIC' | 'PRIVATE' {
  let state = note.initial
  for (const event of note.events) if (event.end <= at) state = event.to
  return state
}
