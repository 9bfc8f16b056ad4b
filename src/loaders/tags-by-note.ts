import type { TagRow } from '../db/rows.ts'
import { createBatchLoader, groupInKeyOrder, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** Tags of notes the viewer already holds (so already may see). */
export function createTagsByNoteLoader ({ repositories, scope }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<string, TagRow[]>('tagsByNote', options, async (noteIds) => {
    const rows = await repositories.tags.byNoteIds(scope, noteIds)
    return groupInKeyOrder(noteIds, rows, (row) => row.noteId).map((group) => group.map(({ id, name }) => ({ id, name })))
  })
}
