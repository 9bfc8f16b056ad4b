import type { ParentWindow } from '../db/notes-repository.ts'
import type { NoteRow } from '../db/rows.ts'
import { createBatchLoader, splitByParentIndex, windowKey, type LoaderOptions } from './loader-options.ts'
import type { LoaderDeps } from './loaders.ts'

/** `user.notes(first, after)`: one statement serves every author, each with its own window. */
export function createNotesByAuthorLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions) {
  return createBatchLoader<ParentWindow, NoteRow[], string>('notesByAuthor', options, async (windows) => {
    const rows = await repositories.notes.byAuthors(scope, viewer, windows)
    return splitByParentIndex(windows.length, rows)
  }, windowKey)
}
