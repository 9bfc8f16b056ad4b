import type { TagRow } from '../db/rows.ts'
import { createBatchLoader, groupInKeyOrder, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** Tags by note id; a note the viewer may not see (or missing) answers an empty list. */
export function createTagsByNoteLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, TagRow[]>('tagsByNote', options, async (noteIds) => {
    const rows = await repositories.tags.byNoteIds(scope, viewer, noteIds)
    return groupInKeyOrder(noteIds, rows, (row) => row.noteId).map((group) => group.map(({ id, name }) => ({ id, name })))
  })
}
