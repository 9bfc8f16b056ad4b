import type { NoteRow, TagRow } from '../db/rows.ts'
import { groupInKeyOrder } from '../db/batched-rows.ts'
import { createBatchLoader, type LoaderDeps, type LoaderOptions } from './loader-options.ts'
import { throughRowCache } from '../rows/through-row-cache.ts'

/** Tags by note id; a note the viewer may not see (or missing) answers an empty list. */
export function createTagsByNoteLoader ({ repositories, rowSources, scope, viewer, rowCache }: LoaderDeps, options: LoaderOptions, visibleNotes: () => { loadMany (ids: readonly string[]): Promise<Array<NoteRow | null | Error>> }) {
  if (!rowCache.enabled) {
    return createBatchLoader<string, TagRow[]>('tagsByNote', options, async (noteIds) => {
      const rows = await repositories.tags.byNoteIds(scope, viewer, noteIds)
      return groupInKeyOrder(noteIds, rows, (row) => row.noteId).map((group) => group.map(({ id, name }) => ({ id, name })))
    })
  }
  // Shared rows: a note's tags are the same for every viewer who may see the note. The rule is
  // applied here too, through the viewer's noteById (usually primed or in the row cache: no
  // SQL), so no caller can learn a private note's tags from its id.
  return createBatchLoader<string, TagRow[]>('tagsByNote', options, async (noteIds) => {
    const [notes, found] = await Promise.all([
      visibleNotes().loadMany(noteIds),
      throughRowCache(rowCache, rowSources.noteTags, scope, noteIds)
    ])
    return found.map((tags, index) => {
      const note = notes[index]
      if (note instanceof Error) return note
      return note === null ? [] : tags ?? []
    })
  })
}
