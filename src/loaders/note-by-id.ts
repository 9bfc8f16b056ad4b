import type { NoteRow } from '../db/rows.ts'
import { createBatchLoader, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** Notes by id as the viewer may see them: invisible and missing both resolve to null. */
export function createNoteByIdLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, NoteRow | null>('noteById', options, async (ids) => {
    const rows = await repositories.notes.byIds(scope, viewer, ids)
    const byId = new Map(rows.map((row) => [row.id, row]))
    return ids.map((id) => byId.get(id) ?? null)
  })
}
