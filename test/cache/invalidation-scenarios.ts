/**
 * The invalidation matrix shared by the one-app (memory tier) and two-app (Redis) tests: for
 * every mutation, every viewer (author, other user, admin, anonymous) reads a set of queries
 * until they are cached, the mutation runs through `writer`, and every cached answer read
 * through `reader` must equal a fresh execution (`Cache-Control: no-cache`) of the same query.
 */
import assert from 'node:assert/strict'
import type { TestApp } from '../helpers/app.ts'

/** How long a reader may take to catch up with the bus: generous, so a loaded machine does not fail a test of coherence. */
export const SYNC_TIMEOUT_MS = 5000

export interface Viewers { author: { id: string, token: string }, other: { id: string, token: string }, adminToken: string }

interface State { noteId: string, authorId: string, nextUserId: string, viewers: Viewers }

const readerQueries: Array<{ name: string, query: string, variables?: (state: State) => Record<string, unknown> }> = [
  { name: 'notes', query: '{ notes(first: 100) { id title visibility tags { name } author { name } } }' },
  { name: 'note', query: 'query ($id: ID!) { note(id: $id) { id title visibility tags { name } } }', variables: (s) => ({ id: s.noteId }) },
  { name: 'userNotes', query: 'query ($id: ID!) { user(id: $id) { name noteCount notes(first: 100) { id title } } }', variables: (s) => ({ id: s.authorId }) },
  { name: 'userNotesOnly', query: 'query ($id: ID!) { user(id: $id) { id noteCount notes(first: 100) { id title } } }', variables: (s) => ({ id: s.authorId }) },
  { name: 'nextUser', query: 'query ($id: ID!) { user(id: $id) { id notes { id } } }', variables: (s) => ({ id: s.nextUserId }) },
  { name: 'users', query: '{ users(first: 100) { id name email } }' },
  { name: 'tags', query: '{ tags(first: 100) { name notes(first: 100) { id } } }' },
  { name: 'tag', query: 'query ($name: String!) { tag(name: $name) { name notes { id title } } }', variables: () => ({ name: 'work' }) },
  { name: 'notesByTag', query: 'query ($tag: String) { notes(tag: $tag) { id } }', variables: () => ({ tag: 'home' }) },
  { name: 'me', query: '{ me { id name email noteCount } }' }
]

export interface Scenario {
  name: string
  /** Runs before the caches are primed; returns the note the readers look at. */
  prepare (writer: TestApp, viewers: Viewers): Promise<string>
  mutate (writer: TestApp, viewers: Viewers, noteId: string): Promise<void>
}

const createNote = async (app: TestApp, token: string, input: Record<string, unknown>): Promise<string> => {
  const result = await app.gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', { token, variables: { input } })
  assert.ok(result.body.data?.createNote, JSON.stringify(result.body))
  return result.body.data.createNote.id
}
const updateNote = async (app: TestApp, token: string, id: string, input: Record<string, unknown>): Promise<void> => {
  const result = await app.gql('mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }', { token, variables: { id, input } })
  assert.ok(result.body.data?.updateNote, JSON.stringify(result.body))
}

export const scenarios: Scenario[] = [
  {
    name: 'createNote PUBLIC with tags',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'existing', visibility: 'PUBLIC', tags: ['work'] }),
    mutate: async (w, v) => { await createNote(w, v.author.token, { title: 'fresh public', visibility: 'PUBLIC', tags: ['work', 'home'] }) }
  },
  {
    name: 'createNote PRIVATE',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'existing', visibility: 'PUBLIC' }),
    mutate: async (w, v) => { await createNote(w, v.author.token, { title: 'fresh private', tags: ['home'] }) }
  },
  {
    name: 'updateNote title',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'before', visibility: 'PUBLIC', tags: ['work'] }),
    mutate: async (w, v, id) => updateNote(w, v.author.token, id, { title: 'after' })
  },
  {
    name: 'updateNote visibility PRIVATE → PUBLIC',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'secret', tags: ['work', 'home'] }),
    mutate: async (w, v, id) => updateNote(w, v.author.token, id, { visibility: 'PUBLIC' })
  },
  {
    name: 'updateNote visibility PUBLIC → PRIVATE',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'open', visibility: 'PUBLIC', tags: ['work', 'home'] }),
    mutate: async (w, v, id) => updateNote(w, v.author.token, id, { visibility: 'PRIVATE' })
  },
  {
    name: 'updateNote tags',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'tagged', visibility: 'PUBLIC', tags: ['work'] }),
    mutate: async (w, v, id) => updateNote(w, v.author.token, id, { tags: ['home'] })
  },
  {
    name: 'deleteNote',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'doomed', visibility: 'PUBLIC', tags: ['work', 'home'] }),
    mutate: async (w, v, id) => {
      const result = await w.gql('mutation ($id: ID!) { deleteNote(id: $id) }', { token: v.author.token, variables: { id } })
      assert.equal(result.body.data?.deleteNote, id, JSON.stringify(result.body))
    }
  },
  {
    name: 'updateUser',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'by author', visibility: 'PUBLIC', tags: ['work'] }),
    mutate: async (w, v) => {
      const result = await w.gql('mutation { updateUser(input: { name: "Renamed Author" }) { id } }', { token: v.author.token })
      assert.ok(result.body.data?.updateUser, JSON.stringify(result.body))
    }
  },
  {
    name: 'signUp',
    prepare: async (w, v) => createNote(w, v.author.token, { title: 'any', visibility: 'PUBLIC' }),
    mutate: async (w) => { await w.signUp('Newcomer') }
  }
]

/** Runs one scenario; returns how many cached answers the mutation changed (must be > 0). */
export async function runScenario (scenario: Scenario, writer: TestApp, reader: TestApp, viewers: Viewers): Promise<number> {
  const noteId = await scenario.prepare(writer, viewers)
  if (reader !== writer) await reader.app.responseCache!.bus.sync(SYNC_TIMEOUT_MS) // see below
  // The id the next sign-up takes (the sequence's next value, read without taking it).
  const [{ next }] = await writer.database.db.sql<{ next: string }>`
    select (case when is_called then last_value + 1 else last_value end)::text as next from users_id_seq`
  const state: State = { noteId, authorId: viewers.author.id, nextUserId: next, viewers }
  const tokens: Array<[string, string | undefined]> = [['author', viewers.author.token], ['other', viewers.other.token], ['admin', viewers.adminToken], ['anonymous', undefined]]
  const before = new Map<string, unknown>()
  for (const [viewer, token] of tokens) {
    for (const q of readerQueries) {
      const options = { token, variables: q.variables?.(state) }
      await reader.gql(q.query, options)
      const second = await reader.gql(q.query, options)
      assert.equal(second.body.extensions?.sqlStatements, 0, `${viewer}/${q.name} was not cached before the mutation`)
      before.set(`${viewer}/${q.name}`, second.body.data)
    }
  }
  await scenario.mutate(writer, viewers, noteId)
  // The writer's process dropped what changed before answering; another process hears of it
  // from PostgreSQL a moment later: wait until the reader has applied every change committed
  // so far (the bound), then nothing it serves may be stale.
  if (reader !== writer) await reader.app.responseCache!.bus.sync(SYNC_TIMEOUT_MS)
  let changed = 0
  for (const [viewer, token] of tokens) {
    for (const q of readerQueries) {
      const options = { token, variables: q.variables?.(state) }
      const cached = await reader.gql(q.query, options)
      const fresh = await reader.gql(q.query, { ...options, headers: { 'cache-control': 'no-cache' } })
      assert.deepEqual(cached.body.data, fresh.body.data, `${scenario.name}: stale answer for ${viewer}/${q.name}`)
      if (JSON.stringify(before.get(`${viewer}/${q.name}`)) !== JSON.stringify(fresh.body.data)) changed++
    }
  }
  return changed
}

export async function viewersOn (app: TestApp): Promise<Viewers> {
  const author = await app.signUp('Author')
  const other = await app.signUp('Other')
  const admin = await app.signUp('Admin')
  return { author, other, adminToken: await app.promoteToAdmin(admin.id) }
}
