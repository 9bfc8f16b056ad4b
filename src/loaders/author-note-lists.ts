/**
 * Every note of an author, for every viewer, through the row cache: `user.notes` windows are
 * then cut from one shared list per author, each with the viewer's rule applied per request.
 * Only used with the row cache on (whose byte bound counts the bodies). An author with more
 * than AUTHOR_LIST_MAX_NOTES notes is not listed ('too-many'): their windows go to SQL.
 */
import { cacheTags } from '../cache/cache-tags.ts'
import type { NoteRow } from '../db/rows.ts'
import { everyRowReader } from '../db/visibility.ts'
import { createBatchLoader, splitByParentIndex, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'
import { throughRowCache } from './shared-rows.ts'

export const AUTHOR_LIST_MAX_NOTES = 500

export type AuthorNoteList = readonly NoteRow[] | 'too-many'

export function createAuthorNoteListsLoader ({ repositories, scope, rowCache }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, AuthorNoteList>('authorNoteLists', options, async (authorIds) => {
    const found = await throughRowCache<string, AuthorNoteList>(rowCache, authorIds, (id) => `AuthorNotes:${id}`, async (missing) => {
      // One more than the bound tells "complete" from "cut off".
      const windows = missing.map((parentId) => ({ parentId, first: AUTHOR_LIST_MAX_NOTES + 1, after: null }))
      const lists = splitByParentIndex(missing.length, await repositories.notes.byAuthors(scope, everyRowReader, windows))
      return new Map(missing.map((authorId, index) => {
        const notes = lists[index].map(({ parentIndex: _, ...note }) => note as NoteRow)
        const list: AuthorNoteList = notes.length > AUTHOR_LIST_MAX_NOTES ? 'too-many' : notes
        // The list changes when a note enters or leaves it, and when one of its notes changes.
        const tags = [cacheTags.notesOfAuthor(authorId), ...(list === 'too-many' ? [] : list.map((note) => cacheTags.entity('Note', note.id)))]
        return [authorId, { value: list, tags }]
      }))
    })
    return found.map((list) => list ?? [])
  })
}
