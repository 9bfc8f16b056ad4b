/**
 * Every note of an author, for every viewer, through the row cache: `user.notes` windows are
 * then cut from one shared list per author, each with the viewer's rule applied per request.
 * Only used with the row cache on (whose byte bound counts the bodies). An author with more
 * than AUTHOR_LIST_MAX_NOTES notes is not listed ('too-many'): their windows go to SQL.
 */
import { createBatchLoader, type LoaderDeps, type LoaderOptions } from './loader-options.ts'
import type { AuthorNoteList } from '../rows/row-sources.ts'
import { throughRowCache } from '../rows/through-row-cache.ts'

export { AUTHOR_LIST_MAX_NOTES } from '../rows/row-sources.ts'

export function createAuthorNoteListsLoader ({ rowSources, scope, rowCache }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, AuthorNoteList>('authorNoteLists', options, async (authorIds) => {
    const found = await throughRowCache(rowCache, rowSources.authorNotes, scope, authorIds)
    return found.map((list) => list ?? [])
  })
}
