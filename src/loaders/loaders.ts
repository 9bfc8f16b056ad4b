/**
 * The per-request loaders. `createLoaders` runs once per request, inside the request context:
 * loaders and their dedup caches are never shared between requests (or viewers).
 */
import type { Viewer } from '../auth/viewer.ts'
import type { RowCache } from '../cache/row-cache.ts'
import type { QueryScope } from '../db/gateway.ts'
import type { Repositories } from '../db/repositories.ts'
import { createAuthorNoteListsLoader } from './author-note-lists.ts'
import type { LoaderOptions } from './loader-options.ts'
import { createNoteByIdLoader } from './note-by-id.ts'
import { createNoteCountByAuthorLoader } from './note-count-by-author.ts'
import { createNotesByAuthorLoader } from './notes-by-author.ts'
import { createNotesByTagLoader } from './notes-by-tag.ts'
import { createTagByNameLoader } from './tag-by-name.ts'
import { createTagsByNoteLoader } from './tags-by-note.ts'
import { createUserByIdLoader } from './user-by-id.ts'

export interface LoaderDeps {
  repositories: Repositories
  viewer: Viewer
  scope: QueryScope
  /** Rows shared between requests (disabledRowCache when off: every batch reads SQL). */
  rowCache: RowCache
}

export type Loaders = ReturnType<typeof createLoaders>

export function createLoaders (deps: LoaderDeps, options: LoaderOptions) {
  // With the row cache on, an author's notes and note count are cut from one shared list.
  const authorNoteLists = deps.rowCache.enabled ? createAuthorNoteListsLoader(deps, options) : undefined
  return {
    userById: createUserByIdLoader(deps, options),
    noteById: createNoteByIdLoader(deps, options),
    notesByAuthor: createNotesByAuthorLoader(deps, options, authorNoteLists),
    notesByTag: createNotesByTagLoader(deps, options),
    tagsByNote: createTagsByNoteLoader(deps, options),
    noteCountByAuthor: createNoteCountByAuthorLoader(deps, options, authorNoteLists),
    tagByName: createTagByNameLoader(deps, options)
  }
}
