/**
 * Where each kind of shared row comes from: one batched statement per kind, the same for a
 * request's loader (keys the row cache missed) and for the row cache's refresh ahead of expiry
 * (keys still being read). Made once per process; rows are read for every viewer
 * (`everyRowReader`), and each request applies its viewer's rule to them afterwards.
 */
import { anonymousViewer } from '../viewer.ts'
import { cacheTags } from '../changes/cache-tags.ts'
import type { FetchedRow, RowSource } from './row-cache.ts'
import type { QueryScope } from '../db/gateway.ts'
import type { Repositories } from '../db/repositories.ts'
import type { NoteRow, PageWindow, TagRow, UserRow } from '../db/rows.ts'
import { everyRowReader } from '../db/visibility.ts'
import { groupInKeyOrder, splitByParentIndex } from '../db/batched-rows.ts'

/** An author with more notes than this is not listed ('too-many'): their windows go to SQL. */
export const AUTHOR_LIST_MAX_NOTES = 500

export type AuthorNoteList = readonly NoteRow[] | 'too-many'

export interface RowSources {
  readonly user: RowSource<UserRow>
  readonly note: RowSource<NoteRow>
  /** A note's tags, in tag-id order. */
  readonly noteTags: RowSource<TagRow[]>
  /** How many notes an author has: all of them (what the author and admins see). */
  readonly noteCountAll: RowSource<number>
  /** How many public notes an author has (what anyone else sees). */
  readonly noteCountPublic: RowSource<number>
  /** Every note of an author, in id order (oldest first), up to AUTHOR_LIST_MAX_NOTES. */
  readonly authorNotes: RowSource<AuthorNoteList>
  /** A window of the users list (`usersWindowId`), shared by every viewer who pages through it. */
  readonly usersPage: RowSource<UserRow[]>
}

/** The row id of a users window: `first:after`. */
export function usersWindowId ({ first, after }: PageWindow): string {
  return `${first}:${after ?? ''}`
}

export function createRowSources ({ users, notes, tags }: Repositories): RowSources {
  const counts = (name: string, reader: typeof everyRowReader): RowSource<number> => source(name, async (scope, authorIds) => {
    const rows = await notes.countsByAuthors(scope, reader, authorIds)
    const byAuthor = new Map(rows.map((row) => [row.authorId, row.count]))
    return new Map(authorIds.map((id) => [id, { value: byAuthor.get(id) ?? 0, tags: [cacheTags.notesOfAuthor(id)] }]))
  })
  return Object.freeze({
    user: source<UserRow>('User', async (scope, ids) => {
      const rows = await users.byIds(scope, ids)
      return new Map(rows.map((row) => [row.id, { value: row, tags: [cacheTags.entity('User', row.id)] }]))
    }),
    note: source<NoteRow>('Note', async (scope, ids) => {
      const rows = await notes.byIds(scope, everyRowReader, ids)
      return new Map(rows.map((row) => [row.id, { value: row, tags: [cacheTags.entity('Note', row.id)] }]))
    }),
    noteTags: source<TagRow[]>('NoteTags', async (scope, noteIds) => {
      const groups = groupInKeyOrder(noteIds, await tags.byNoteIds(scope, everyRowReader, noteIds), (row) => row.noteId)
      // The list changes with the note's tags (`Note:<id>`), and a tag's name with the tag.
      return new Map(noteIds.map((noteId, index) => [noteId, {
        value: groups[index].map(({ id, name }) => ({ id, name })),
        tags: [cacheTags.entity('Note', noteId), ...groups[index].map((tag) => cacheTags.entity('Tag', tag.id))]
      }]))
    }),
    noteCountAll: counts('NoteCount:all', everyRowReader),
    noteCountPublic: counts('NoteCount:public', anonymousViewer),
    authorNotes: source<AuthorNoteList>('AuthorNotes', async (scope, authorIds) => {
      // One more than the bound tells "complete" from "cut off".
      const windows = authorIds.map((parentId) => ({ parentId, first: AUTHOR_LIST_MAX_NOTES + 1, after: null }))
      const lists = splitByParentIndex(authorIds.length, await notes.byAuthors(scope, everyRowReader, windows))
      return new Map(authorIds.map((authorId, index) => {
        const listed = lists[index].map(({ parentIndex: _, ...note }) => note as NoteRow)
        const list: AuthorNoteList = listed.length > AUTHOR_LIST_MAX_NOTES ? 'too-many' : listed
        // The list changes when a note enters or leaves it, and when one of its notes changes.
        const tags = [cacheTags.notesOfAuthor(authorId), ...(list === 'too-many' ? [] : list.map((note) => cacheTags.entity('Note', note.id)))]
        return [authorId, { value: list, tags }]
      }))
    }),
    usersPage: source<UserRow[]>('UsersPage', async (scope, windowIds) => {
      const windows = windowIds.map(windowOf)
      const pages = splitByParentIndex(windows.length, await users.pages(scope, windows))
      return new Map(windowIds.map((windowId, index) => {
        const page = pages[index].map(({ parentIndex: _, ...user }) => user as UserRow)
        // The window changes when a user enters or leaves the list, and when one of its users changes.
        return [windowId, { value: page, tags: [cacheTags.allUsers, ...page.map((user) => cacheTags.entity('User', user.id))] }]
      }))
    })
  })
}

// Private:

function windowOf (windowId: string): PageWindow {
  const colon = windowId.indexOf(':')
  const after = windowId.slice(colon + 1)
  return { first: Number(windowId.slice(0, colon)), after: after === '' ? null : after }
}

function source<V> (prefix: string, read: (scope: QueryScope, ids: readonly string[]) => Promise<Map<string, FetchedRow<V>>>): RowSource<V> {
  return Object.freeze({ name: prefix, keyOf: (id: string) => `${prefix}:${id}`, read })
}
