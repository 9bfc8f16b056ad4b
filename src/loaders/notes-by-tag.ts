import type { ParentWindow } from '../db/notes-repository.ts'
import type { NoteRow } from '../db/rows.ts'
import { splitByParentIndex } from '../db/batched-rows.ts'
import { createBatchLoader, windowKey, type LoaderDeps, type LoaderOptions } from './loader-options.ts'

/** `tag.notes(first, after)`: one statement serves every tag, each with its own window. */
export function createNotesByTagLoader ({ repositories, scope, viewer }: LoaderDeps, options: LoaderOptions, noteById?: () => { prime (id: string, note: NoteRow): unknown }) {
  return createBatchLoader<ParentWindow, NoteRow[], string>('notesByTag', options, async (windows) => {
    const rows = await repositories.notes.byTags(scope, viewer, windows)
    const lists = splitByParentIndex(windows.length, rows)
    // Read with the viewer's rule: `Note.tags` needs no lookup of its own to check it.
    for (const list of lists) for (const { parentIndex: _, ...note } of list) noteById?.().prime(note.id, note)
    return lists
  }, windowKey)
}
