import { cacheTags } from '../cache/cache-tags.ts'
import type { TagRow } from '../db/rows.ts'
import { everyRowReader } from '../db/visibility.ts'
import { createBatchLoader, groupInKeyOrder, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'
import { throughRowCache } from './shared-rows.ts'

/** Tags by note id; a note the viewer may not see (or missing) answers an empty list. */
export function createTagsByNoteLoader ({ repositories, scope, viewer, rowCache }: LoaderDeps, options: LoaderOptions) {
  if (!rowCache.enabled) {
    return createBatchLoader<string, TagRow[]>('tagsByNote', options, async (noteIds) => {
      const rows = await repositories.tags.byNoteIds(scope, viewer, noteIds)
      return groupInKeyOrder(noteIds, rows, (row) => row.noteId).map((group) => group.map(({ id, name }) => ({ id, name })))
    })
  }
  // Shared rows: a note's tags are the same for every viewer who may see the note; the note
  // itself passed the viewer's rule before anyone asks for its tags (Note.tags, or the
  // author/admin in a mutation), and a note's tags change only with its `Note:id` tag.
  return createBatchLoader<string, TagRow[]>('tagsByNote', options, async (noteIds) => {
    const found = await throughRowCache(rowCache, noteIds, (id) => `NoteTags:${id}`, async (missing) => {
      const rows = await repositories.tags.byNoteIds(scope, everyRowReader, missing)
      const groups = groupInKeyOrder(missing, rows, (row) => row.noteId)
      return new Map(missing.map((noteId, index) => [noteId, {
        value: groups[index].map(({ id, name }) => ({ id, name })),
        tags: [cacheTags.entity('Note', noteId)]
      }]))
    })
    return found.map((tags) => tags ?? [])
  })
}
