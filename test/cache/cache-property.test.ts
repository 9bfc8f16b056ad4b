/**
 * Property: with the cache on, under random users, notes, visibilities, queries and mutations
 * (some running concurrently with reads), every answer equals the same query executed by an
 * app with the cache off, and no note the viewer may not see ever appears in an answer.
 * Bounded (numRuns) so the file stays well under 30 s.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

interface Viewer { id: string | null, token: string | undefined, admin: boolean }

const TAGS = ['red', 'blue', 'green']
const reads = [
  { query: 'query ($first: Int) { notes(first: $first) { id title visibility author { id name } tags { name } } }', vars: (n: number) => ({ first: 1 + (n % 30) }) },
  { query: 'query ($tag: String) { notes(tag: $tag) { id title } }', vars: (n: number) => ({ tag: TAGS[n % TAGS.length] }) },
  { query: 'query ($id: ID!) { note(id: $id) { id title visibility body } }', vars: (n: number) => ({ id: String(1 + (n % 25)) }) },
  { query: 'query ($id: ID!) { user(id: $id) { id name email noteCount notes { id title visibility } } }', vars: (n: number) => ({ id: String(1 + (n % 5)) }) },
  { query: '{ users { id name email } }', vars: () => ({}) },
  { query: '{ tags { name notes { id title } } }', vars: () => ({}) },
  { query: 'query ($name: String!) { tag(name: $name) { name notes { id visibility } } }', vars: (n: number) => ({ name: TAGS[n % TAGS.length] }) },
  { query: '{ me { id name email noteCount notes { id title } } }', vars: () => ({}) }
]

const readArb = fc.record({ viewer: fc.nat(3), read: fc.nat(reads.length - 1), n: fc.nat(1000) })
const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), viewer: fc.nat(2), visibility: fc.constantFrom('PUBLIC', 'PRIVATE'), tags: fc.subarray(TAGS) }),
  fc.record({ kind: fc.constant('update' as const), viewer: fc.nat(2), note: fc.nat(30), visibility: fc.option(fc.constantFrom('PUBLIC', 'PRIVATE'), { nil: undefined }), tags: fc.option(fc.subarray(TAGS), { nil: undefined }), title: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('delete' as const), viewer: fc.nat(2), note: fc.nat(30) }),
  fc.record({ kind: fc.constant('rename' as const), viewer: fc.nat(2), name: fc.string({ minLength: 1, maxLength: 8 }) })
)
const stepArb = fc.record({ mutation: mutationArb, concurrentReads: fc.array(readArb, { maxLength: 6 }), reads: fc.array(readArb, { minLength: 1, maxLength: 8 }) })

let database: TestDatabase
let cached: TestApp
let reference: TestApp
const viewers: Viewer[] = []

before(async () => {
  database = await createTestDatabase()
  cached = await startTestApp({}, { database })
  reference = await startTestApp({ cacheEnabled: false }, { database })
  for (const name of ['U1', 'U2', 'Boss']) {
    const user = await cached.signUp(name)
    viewers.push({ id: user.id, token: user.token, admin: false })
  }
  viewers[2] = { ...viewers[2], token: await cached.promoteToAdmin(viewers[2].id!), admin: true }
  viewers.push({ id: null, token: undefined, admin: false })
})
after(async () => {
  await cached?.close()
  await reference?.close()
  await database?.drop()
})

test('cached answers equal uncached ones and never show an invisible note', async () => {
  await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 3 }), async (steps) => {
    for (const step of steps) {
      const during = await Promise.all([mutate(step.mutation), ...step.concurrentReads.map((r) => read(cached, r))])
      for (const response of during.slice(1)) assert.notEqual((response as { status: number }).status, 500)
      const answers = await Promise.all(step.reads.map((r) => read(cached, r)))
      for (const [index, r] of step.reads.entries()) {
        const truth = await read(reference, r)
        assert.deepEqual(answers[index].body.data, truth.body.data, `viewer ${r.viewer}, ${reads[r.read].query}`)
        await assertVisible(viewers[r.viewer], answers[index].body.data)
      }
    }
  }), { numRuns: 30 })
})

// Private:

function read (app: TestApp, r: { viewer: number, read: number, n: number }) {
  const { query, vars } = reads[r.read]
  return app.gql(query, { token: viewers[r.viewer].token, variables: vars(r.n) })
}

async function mutate (m: Record<string, any>): Promise<unknown> {
  const token = viewers[m.viewer].token
  switch (m.kind) {
    case 'create': return cached.gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', { token, variables: { input: { title: 'n', visibility: m.visibility, tags: m.tags } } })
    case 'update': return cached.gql('mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }', { token, variables: { id: String(1 + m.note), input: { visibility: m.visibility, tags: m.tags, title: m.title } } })
    case 'delete': return cached.gql('mutation ($id: ID!) { deleteNote(id: $id) }', { token, variables: { id: String(1 + m.note) } })
    default: return cached.gql('mutation ($input: UpdateUserInput!) { updateUser(input: $input) { id } }', { token, variables: { input: { name: m.name } } })
  }
}

/** Every note id in an answer must be PUBLIC, the viewer's own, or the viewer an admin. */
async function assertVisible (viewer: Viewer, data: unknown): Promise<void> {
  const ids = new Set<string>()
  collectNoteIds(data, false, ids)
  if (ids.size === 0 || viewer.admin) return
  const rows = await database.db.sql<{ id: string, authorId: string, visibility: string }>`
    select id::text as id, author_id::text as "authorId", visibility from notes where id = any(${[...ids]}::bigint[])`
  for (const row of rows) {
    assert.ok(row.visibility === 'PUBLIC' || row.authorId === viewer.id, `note ${row.id} (${row.visibility}, author ${row.authorId}) shown to ${viewer.id ?? 'anonymous'}`)
  }
}

function collectNoteIds (value: unknown, underNote: boolean, ids: Set<string>): void {
  if (Array.isArray(value)) return value.forEach((item) => collectNoteIds(item, underNote, ids))
  if (value === null || typeof value !== 'object') return
  const record = value as Record<string, unknown>
  if (underNote && typeof record.id === 'string') ids.add(record.id)
  for (const [key, child] of Object.entries(record)) collectNoteIds(child, key === 'notes' || key === 'note', ids)
}
