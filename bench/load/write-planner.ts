/**
 * The writes of a load mix, planned per viewer so that every one of them is legal and can be
 * checked: `createNote` with 2-3 overlapping tags in varied order (the shape that makes tag
 * upserts contend), `updateNote` visibility flips and re-tags of the viewer's own notes,
 * `deleteNote` of notes the viewer created in this run, `updateUser` renaming the viewer.
 *
 * A note the run created goes either to the viewer's "update" pool or to its "delete" pool,
 * never both, and a delete takes its note out of the pool when it is planned: so an update can
 * never race a delete of the same note, and a NOT_FOUND is always the server's fault. A delete
 * drawn for a viewer with nothing to delete goes to a viewer who has something, so deletes keep
 * their share from the first created note on; with none anywhere it becomes a createNote.
 *
 * Each planned write carries what its answer must say (the id, the tags, the visibility, the
 * name it set): a success whose data disagrees counts as a failure, `mismatch <operation>`.
 * Every field asked for comes from the mutation's own statements, not from a later read that
 * a concurrent write of the same viewer could change.
 */

export type WriteKind = 'createNote' | 'updateNote' | 'deleteNote' | 'updateUser'
export const WRITE_KINDS: readonly WriteKind[] = Object.freeze(['createNote', 'updateNote', 'deleteNote', 'updateUser'])

/** The small tag set every created or re-tagged note draws 2-3 names from. */
export const WRITE_TAGS: readonly string[] = Object.freeze(['alpha', 'beta', 'gamma', 'delta'])

export type Visibility = 'PUBLIC' | 'PRIVATE'

export interface OwnNote {
  id: string
  visibility: Visibility
}

/** What a write's answer must contain; `kind` says which fields apply. */
export interface WriteExpectation {
  kind: WriteKind
  noteId?: string
  userId?: string
  visibility?: Visibility
  /** Sorted. */
  tags?: string[]
  name?: string
  /** A created note's title and author: the viewer who sent it. */
  title?: string
  authorId?: string
}

export interface PlannedWrite {
  /** Can differ from the kind asked for: an update or delete with no note to act on creates one. */
  kind: WriteKind
  /** Who sends it: the viewer asked for, except for a delete moved to a viewer with a note to delete. */
  viewerIndex: number
  body: string
  expect: WriteExpectation
}

export interface WritePlannerOptions {
  /** Per viewer, in the order of the mix's users: the id and the notes it owns at the start. */
  viewers: ReadonlyArray<{ id: string, ownNotes?: readonly OwnNote[] }>
  random: () => number
}

export interface WritePlanner {
  plan (kind: WriteKind, viewerIndex: number): PlannedWrite
  /**
   * Checks a successful (HTTP 200, no errors) answer against what was asked, and remembers a
   * created note. Returns null when it agrees, else the error type to count.
   */
  judge (viewerIndex: number, expect: WriteExpectation, bodyText: string): string | null
  /** The first few answers that disagreed, for the report: what was asked, what came back. */
  readonly mismatches: ReadonlyArray<{ expected: WriteExpectation, answer: string }>
}

export const WRITE_QUERIES = Object.freeze({
  createNote: 'mutation createNote($input: CreateNoteInput!) { createNote(input: $input) { id title visibility author { id } tags { name } } }',
  flipVisibility: 'mutation updateNote($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id visibility } }',
  retag: 'mutation updateNote($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id tags { name } } }',
  deleteNote: 'mutation deleteNote($id: ID!) { deleteNote(id: $id) }',
  updateUser: 'mutation updateUser($input: UpdateUserInput!) { updateUser(input: $input) { id name } }'
})

export function createWritePlanner ({ viewers, random }: WritePlannerOptions): WritePlanner {
  const pools: ViewerPools[] = viewers.map((viewer) => ({
    updatable: (viewer.ownNotes ?? []).map((note) => ({ ...note })),
    deletable: [],
    nextCreatedIsDeletable: false
  }))
  const withDeletable = createIndexSet(viewers.length)
  const mismatches: Array<{ expected: WriteExpectation, answer: string }> = []
  let serial = 0

  function createNote (viewerIndex: number): PlannedWrite {
    const tags = pickTags(random)
    const visibility: Visibility = random() < 0.5 ? 'PUBLIC' : 'PRIVATE'
    const input = { title: `load note ${++serial}`, body: `written by the load generator (${serial})`, visibility, tags }
    const expect: WriteExpectation = { kind: 'createNote', visibility, tags: [...tags].sort(), title: input.title, authorId: viewers[viewerIndex].id }
    return { kind: 'createNote', viewerIndex, body: JSON.stringify({ query: WRITE_QUERIES.createNote, variables: { input } }), expect }
  }

  function updateNote (viewerIndex: number): PlannedWrite {
    const pool = pools[viewerIndex]
    const note = pool.updatable[Math.floor(random() * pool.updatable.length)]
    serial++
    if (random() < 0.5) {
      // Recorded now, so the next flip of this note flips back even while this one is in flight.
      note.visibility = note.visibility === 'PUBLIC' ? 'PRIVATE' : 'PUBLIC'
      const variables = { id: note.id, input: { visibility: note.visibility } }
      return { kind: 'updateNote', viewerIndex, body: JSON.stringify({ query: WRITE_QUERIES.flipVisibility, variables }), expect: { kind: 'updateNote', noteId: note.id, visibility: note.visibility } }
    }
    const tags = pickTags(random)
    const variables = { id: note.id, input: { tags } }
    return { kind: 'updateNote', viewerIndex, body: JSON.stringify({ query: WRITE_QUERIES.retag, variables }), expect: { kind: 'updateNote', noteId: note.id, tags: [...tags].sort() } }
  }

  function deleteNote (viewerIndex: number): PlannedWrite {
    const pool = pools[viewerIndex]
    const index = Math.floor(random() * pool.deletable.length)
    const id = pool.deletable[index]
    // Out of the pool before it is sent: no second delete, no update of a deleted note.
    pool.deletable[index] = pool.deletable[pool.deletable.length - 1]
    pool.deletable.pop()
    if (pool.deletable.length === 0) withDeletable.delete(viewerIndex)
    serial++
    return { kind: 'deleteNote', viewerIndex, body: JSON.stringify({ query: WRITE_QUERIES.deleteNote, variables: { id } }), expect: { kind: 'deleteNote', noteId: id } }
  }

  function updateUser (viewerIndex: number): PlannedWrite {
    const name = `Load User ${viewerIndex + 1}.${++serial}`
    return { kind: 'updateUser', viewerIndex, body: JSON.stringify({ query: WRITE_QUERIES.updateUser, variables: { input: { name } } }), expect: { kind: 'updateUser', userId: viewers[viewerIndex].id, name } }
  }

  function remember (viewerIndex: number, note: OwnNote): void {
    const pool = pools[viewerIndex]
    if (pool.nextCreatedIsDeletable) withDeletable.add(viewerIndex)
    const list: Array<OwnNote | string> = pool.nextCreatedIsDeletable ? pool.deletable : pool.updatable
    const entry = pool.nextCreatedIsDeletable ? note.id : note
    pool.nextCreatedIsDeletable = !pool.nextCreatedIsDeletable
    // A bounded pool keeps memory flat on long runs; a note dropped from it simply stays.
    if (list.length < MAX_POOL_SIZE) list.push(entry)
    else list[Math.floor(random() * list.length)] = entry
  }

  return {
    plan (kind, viewerIndex) {
      if (kind === 'updateNote' && pools[viewerIndex].updatable.length > 0) return updateNote(viewerIndex)
      if (kind === 'deleteNote' && withDeletable.size > 0) {
        return deleteNote(pools[viewerIndex].deletable.length > 0 ? viewerIndex : withDeletable.pick(random))
      }
      if (kind === 'updateUser') return updateUser(viewerIndex)
      return createNote(viewerIndex)
    },

    mismatches,

    judge (viewerIndex, expect, bodyText) {
      let data: Record<string, unknown> | undefined
      try {
        data = JSON.parse(bodyText)?.data?.[expect.kind] as Record<string, unknown> | undefined
      } catch { /* not JSON: disagrees below */ }
      if (!agrees(expect, data)) {
        if (mismatches.length < MAX_MISMATCHES_KEPT) mismatches.push({ expected: expect, answer: bodyText.slice(0, 300) })
        return `mismatch ${expect.kind}`
      }
      if (expect.kind === 'createNote') remember(viewerIndex, { id: String((data as { id: unknown }).id), visibility: expect.visibility! })
      return null
    }
  }
}

/** 2 or 3 distinct names of WRITE_TAGS in a random order. */
export function pickTags (random: () => number): string[] {
  const names = [...WRITE_TAGS]
  for (let index = names.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1))
    ;[names[index], names[other]] = [names[other], names[index]]
  }
  return names.slice(0, random() < 0.5 ? 2 : 3)
}

// Private:

const MAX_POOL_SIZE = 32
const MAX_MISMATCHES_KEPT = 5

interface ViewerPools {
  updatable: OwnNote[]
  deletable: string[]
  nextCreatedIsDeletable: boolean
}

/** A set of indexes 0..capacity-1 with O(1) add, delete and random pick. */
function createIndexSet (capacity: number) {
  const members: number[] = []
  const positions = new Int32Array(capacity).fill(-1)
  return {
    get size () { return members.length },
    add (index: number): void {
      if (positions[index] !== -1) return
      positions[index] = members.length
      members.push(index)
    },
    delete (index: number): void {
      const position = positions[index]
      if (position === -1) return
      const last = members.pop()!
      if (last !== index) {
        members[position] = last
        positions[last] = position
      }
      positions[index] = -1
    },
    pick: (random: () => number): number => members[Math.floor(random() * members.length)]
  }
}

function agrees (expect: WriteExpectation, data: unknown): boolean {
  if (expect.kind === 'deleteNote') return data === expect.noteId
  if (data === null || typeof data !== 'object') return false
  const answer = data as { id?: unknown, visibility?: unknown, tags?: unknown, name?: unknown, title?: unknown, author?: { id?: unknown } | null }
  if (typeof answer.id !== 'string' || answer.id === '') return false
  if (expect.noteId !== undefined && answer.id !== expect.noteId) return false
  if (expect.userId !== undefined && answer.id !== expect.userId) return false
  if (expect.visibility !== undefined && answer.visibility !== expect.visibility) return false
  if (expect.name !== undefined && answer.name !== expect.name) return false
  if (expect.title !== undefined && answer.title !== expect.title) return false
  if (expect.authorId !== undefined && answer.author?.id !== expect.authorId) return false
  if (expect.tags !== undefined) {
    if (!Array.isArray(answer.tags)) return false
    const names = answer.tags.map((tag: { name?: unknown } | null) => tag?.name).sort()
    if (names.length !== expect.tags.length || names.some((name, index) => name !== expect.tags![index])) return false
  }
  return true
}
