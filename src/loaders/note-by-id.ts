import type { NoteRow } from '../db/rows.ts'
import { isNoteVisibleTo } from '../db/visibility.ts'
import { createBatchLoader, type LoaderDeps, type LoaderOptions } from './loader-options.ts'
import { throughRowCache } from '../rows/through-row-cache.ts'

/** Notes by id as the viewer may see them: invisible and missing both resolve to null. */
export function createNoteByIdLoader ({ repositories, rowSources, scope, viewer, rowCache }: LoaderDeps, options: LoaderOptions) {
  if (!rowCache.enabled) {
    // The viewer's rule inside the one statement.
    return createBatchLoader<string, NoteRow | null>('noteById', options, async (ids) => {
      const rows = await repositories.notes.byIds(scope, viewer, ids)
      const byId = new Map(rows.map((row) => [row.id, row]))
      return ids.map((id) => byId.get(id) ?? null)
    })
  }
  // Shared rows: read for every viewer once, the viewer's rule applied here, per request.
  return createBatchLoader<string, NoteRow | null>('noteById', options, async (ids) => {
    const found = await throughRowCache(rowCache, rowSources.note, scope, ids)
    return found.map((note) => note !== undefined && isNoteVisibleTo(viewer, note) ? note : null)
  })
}
