import type { ParentWindow } from '../db/notes-repository.ts'
import type { NoteRow } from '../db/rows.ts'
import { createBatchLoader, splitByParentIndex, windowKey, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** `tag.notes(first, after)`: one statement serves every tag, each with its own window. */
export function createNotesByTagLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<ParentWindow, NoteRow[], string>('notesByTag', options, async (windows) => {
    const rows = await repositories.notes.byTags(scope, viewer, windows)
    return splitByParentIndex(windows.length, rows)
  }, windowKey)
}
