import { createBatchLoader, type LoaderDeps, type LoaderOptions } from './loader-options.ts'
import { throughRowCache } from '../rows/through-row-cache.ts'

/**
 * How many of an author's notes the viewer may see. With the row cache on, two counts per
 * author are shared between viewers: the public notes (what anyone sees) and all of them (what
 * the author and admins see); the viewer's rule picks one. Counted by SQL, never by loading
 * the author's rows.
 */
export function createNoteCountByAuthorLoader (deps: LoaderDeps, options: LoaderOptions) {
  const { repositories, rowSources, scope, viewer, rowCache } = deps
  const countsFor = async (reader: typeof viewer, authorIds: readonly string[]): Promise<number[]> => {
    const rows = await repositories.notes.countsByAuthors(scope, reader, authorIds)
    const counts = new Map(rows.map((row) => [row.authorId, row.count]))
    return authorIds.map((id) => counts.get(id) ?? 0)
  }
  if (!rowCache.enabled) return createBatchLoader<string, number>('noteCountByAuthor', options, (authorIds) => countsFor(viewer, authorIds))

  const seesAll = (authorId: string): boolean => viewer.seesAllOf(authorId)
  const sharedCounts = (kind: 'all' | 'public', authorIds: string[]): Promise<Array<number | undefined>> =>
    throughRowCache(rowCache, kind === 'all' ? rowSources.noteCountAll : rowSources.noteCountPublic, scope, authorIds)
  return createBatchLoader<string, number>('noteCountByAuthor', options, async (authorIds) => {
    const all = authorIds.filter(seesAll)
    const others = authorIds.filter((id) => !seesAll(id))
    const [allCounts, publicCounts] = await Promise.all([
      all.length === 0 ? [] : sharedCounts('all', all),
      others.length === 0 ? [] : sharedCounts('public', others)
    ])
    const byAuthor = new Map<string, number>()
    all.forEach((id, index) => byAuthor.set(id, allCounts[index] ?? 0))
    others.forEach((id, index) => byAuthor.set(id, publicCounts[index] ?? 0))
    return authorIds.map((id) => byAuthor.get(id) ?? 0)
  })
}
