import { isNoteVisibleTo } from '../db/visibility.ts'
import type { createAuthorNoteListsLoader } from './author-note-lists.ts'
import { createBatchLoader, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** How many of an author's notes the viewer may see. */
export function createNoteCountByAuthorLoader (deps: LoaderDeps, options: LoaderOptions, authorNoteLists?: ReturnType<typeof createAuthorNoteListsLoader>) {
  const { repositories, scope, viewer } = deps
  const countsFromSql = async (authorIds: readonly string[]): Promise<number[]> => {
    const rows = await repositories.notes.countsByAuthors(scope, viewer, authorIds)
    const counts = new Map(rows.map((row) => [row.authorId, row.count]))
    return authorIds.map((id) => counts.get(id) ?? 0)
  }
  if (authorNoteLists === undefined) return createBatchLoader<string, number>('noteCountByAuthor', options, countsFromSql)

  // Row cache on: count the viewer's share of the author's shared list.
  return createBatchLoader<string, number>('noteCountByAuthor', options, async (authorIds) => {
    const lists = await authorNoteLists.loadMany(authorIds)
    const counts = lists.map((list) => {
      if (list instanceof Error) throw list
      if (list === 'too-many') return undefined
      let count = 0
      for (const note of list) if (isNoteVisibleTo(viewer, note)) count++
      return count
    })
    const uncounted = authorIds.filter((_, index) => counts[index] === undefined)
    if (uncounted.length === 0) return counts as number[]
    const fromSql = await countsFromSql(uncounted)
    let next = 0
    return counts.map((count) => count ?? fromSql[next++])
  })
}
