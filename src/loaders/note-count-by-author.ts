import { createBatchLoader, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** How many of an author's notes the viewer may see. */
export function createNoteCountByAuthorLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, number>('noteCountByAuthor', options, async (authorIds) => {
    const rows = await repositories.notes.countsByAuthors(scope, viewer, authorIds)
    const counts = new Map(rows.map((row) => [row.authorId, row.count]))
    return authorIds.map((id) => counts.get(id) ?? 0)
  })
}
