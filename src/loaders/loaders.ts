/**
 * The per-request loaders. `createLoaders` runs once per request, inside the request context:
 * loaders and their dedup caches are never shared between requests (or viewers), and each
 * is made only when a resolver first asks for it.
 */
import { createAuthorNoteListsLoader } from './author-note-lists.ts'
import type { LoaderDeps, LoaderOptions } from './loader-options.ts'
import { createNoteByIdLoader } from './note-by-id.ts'
import { createNoteCountByAuthorLoader } from './note-count-by-author.ts'
import { createNotesByAuthorLoader } from './notes-by-author.ts'
import { createNotesByTagLoader } from './notes-by-tag.ts'
import { createTagByNameLoader } from './tag-by-name.ts'
import { createTagsByNoteLoader } from './tags-by-note.ts'
import { createUserByIdLoader } from './user-by-id.ts'

export interface Loaders {
  readonly userById: ReturnType<typeof createUserByIdLoader>
  readonly noteById: ReturnType<typeof createNoteByIdLoader>
  readonly notesByAuthor: ReturnType<typeof createNotesByAuthorLoader>
  readonly notesByTag: ReturnType<typeof createNotesByTagLoader>
  readonly tagsByNote: ReturnType<typeof createTagsByNoteLoader>
  readonly noteCountByAuthor: ReturnType<typeof createNoteCountByAuthorLoader>
  readonly tagByName: ReturnType<typeof createTagByNameLoader>
}

export function createLoaders (deps: LoaderDeps, options: LoaderOptions): Loaders {
  return new LazyLoaders(deps, options)
}

// Private:

/**
 * Each loader is made on first use. A query touches two or three of the seven; the others,
 * made up front, would be garbage that outlives a young-generation GC under load, which is
 * what the collector pauses to copy (docs/performance.md, "Figures behind the code").
 */
class LazyLoaders implements Loaders {
  private readonly deps: LoaderDeps
  private readonly options: LoaderOptions
  private made: { -readonly [name in keyof Loaders]?: Loaders[name] } = {}
  private authorNoteListsLoader: ReturnType<typeof createAuthorNoteListsLoader> | undefined

  constructor (deps: LoaderDeps, options: LoaderOptions) {
    this.deps = deps
    this.options = options
  }

  get userById () { return (this.made.userById ??= createUserByIdLoader(this.deps, this.options)) }
  get noteById () { return (this.made.noteById ??= createNoteByIdLoader(this.deps, this.options)) }
  get notesByAuthor () { return (this.made.notesByAuthor ??= createNotesByAuthorLoader(this.deps, this.options, this.authorNoteLists(), () => this.noteById)) }
  get notesByTag () { return (this.made.notesByTag ??= createNotesByTagLoader(this.deps, this.options, () => this.noteById)) }
  get tagsByNote () { return (this.made.tagsByNote ??= createTagsByNoteLoader(this.deps, this.options, () => this.noteById)) }
  get noteCountByAuthor () { return (this.made.noteCountByAuthor ??= createNoteCountByAuthorLoader(this.deps, this.options)) }
  get tagByName () { return (this.made.tagByName ??= createTagByNameLoader(this.deps, this.options)) }

  /** With the row cache on, an author's note windows are cut from one shared list. */
  private authorNoteLists () {
    if (!this.deps.rowCache.enabled) return undefined
    return (this.authorNoteListsLoader ??= createAuthorNoteListsLoader(this.deps, this.options))
  }
}
