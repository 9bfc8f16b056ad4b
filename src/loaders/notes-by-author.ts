import type { ParentWindow } from '../db/notes-repository.ts'
import type { NoteRow } from '../db/rows.ts'
import { isNoteVisibleTo } from '../db/visibility.ts'
import { splitByParentIndex } from '../db/batched-rows.ts'
import { createBatchLoader, windowKey, type LoaderDeps, type LoaderOptions } from './loader-options.ts'
import type { createAuthorNoteListsLoader } from './author-note-lists.ts'
import { isAfter } from '../rows/through-row-cache.ts'

/** `user.notes(first, after)`: one statement serves every author, each with its own window. */
export function createNotesByAuthorLoader (deps: LoaderDeps, options: LoaderOptions, authorNoteLists?: ReturnType<typeof createAuthorNoteListsLoader>, noteById?: () => { prime (id: string, note: NoteRow): unknown }) {
  const { repositories, scope, viewer } = deps
  const windowsFromSql = async (windows: readonly ParentWindow[]): Promise<NoteRow[][]> =>
    splitByParentIndex(windows.length, await repositories.notes.byAuthors(scope, viewer, windows))
  if (authorNoteLists === undefined) return createBatchLoader<ParentWindow, NoteRow[], string>('notesByAuthor', options, windowsFromSql, windowKey)

  // Row cache on: cut each window from the author's shared list with the viewer's rule.
  return createBatchLoader<ParentWindow, NoteRow[], string>('notesByAuthor', options, async (windows) => {
    const lists = await authorNoteLists.loadMany(windows.map((w) => w.parentId))
    const result: NoteRow[][] = []
    const tooMany: number[] = []
    windows.forEach((window, index) => {
      const list = lists[index]
      if (list instanceof Error) throw list
      if (list === 'too-many') {
        tooMany.push(index)
        result.push([])
        return
      }
      const page: NoteRow[] = []
      for (const note of list) {
        if (page.length === window.first) break
        if (isAfter(note.id, window.after) && isNoteVisibleTo(viewer, note)) {
          page.push(note)
          // Visible to this viewer: `Note.tags` then needs no lookup of its own to check that.
          noteById?.().prime(note.id, note)
        }
      }
      result.push(page)
    })
    if (tooMany.length > 0) {
      const fromSql = await windowsFromSql(tooMany.map((index) => windows[index]))
      tooMany.forEach((index, i) => { result[index] = fromSql[i] })
    }
    return result
  }, windowKey)
}
