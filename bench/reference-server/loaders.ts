/**
 * The reference server's per-request DataLoaders: one batched statement per loader and tick,
 * the viewer's visibility rule inside every statement that reads notes (a note is visible to
 * its author, to admins, and to everyone when PUBLIC), as Jotter applies it.
 */
import DataLoader from 'dataloader'
import type pg from 'pg'

export interface Viewer { id: string, role: 'user' | 'admin' }
export interface User { id: string, name: string, email: string, role: string, createdAt: Date }
export interface Note { id: string, authorId: string, title: string, body: string, visibility: string, createdAt: Date, updatedAt: Date }
export interface Tag { id: string, name: string }

export interface Loaders {
  userById: DataLoader<string, User | null>
  noteById: DataLoader<string, Note | null>
  tagsByNote: DataLoader<string, Tag[]>
  /** One loader per window (`first`, `after`), keyed by author id. */
  notesByAuthor (first: number, after: string | null): DataLoader<string, Note[]>
}

export const USER_COLUMNS = 'u.id, u.name, u.email, u.role, u.created_at as "createdAt"'
export const NOTE_COLUMNS = 'n.id, n.author_id as "authorId", n.title, n.body, n.visibility, n.created_at as "createdAt", n.updated_at as "updatedAt"'

/** `n.…` visible to the viewer; `$<parameter>` is the viewer's id, absent for admins (who see every note). */
export function visibleTo (viewer: Viewer | null, parameter: number): string {
  if (viewer?.role === 'admin') return 'true'
  return viewer === null ? "n.visibility = 'PUBLIC'" : `(n.visibility = 'PUBLIC' or n.author_id = $${parameter})`
}

/** What `visibleTo` refers to: the viewer's id, or nothing. */
export function viewerParameters (viewer: Viewer | null): string[] {
  return viewer === null || viewer.role === 'admin' ? [] : [viewer.id]
}

export function createLoaders (pool: pg.Pool, viewer: Viewer | null): Loaders {
  const viewerId = viewerParameters(viewer)
  const windows = new Map<string, DataLoader<string, Note[]>>()
  return {
    userById: new DataLoader(async (ids) => {
      const { rows } = await pool.query<User>(`select ${USER_COLUMNS} from users u where u.id = any($1::bigint[])`, [ids])
      return inKeyOrder(ids, rows, (row) => row.id)
    }),
    noteById: new DataLoader(async (ids) => {
      const { rows } = await pool.query<Note>(`select ${NOTE_COLUMNS} from notes n where n.id = any($1::bigint[]) and ${visibleTo(viewer, 2)}`, [ids, ...viewerId])
      return inKeyOrder(ids, rows, (row) => row.id)
    }),
    tagsByNote: new DataLoader(async (noteIds) => {
      const { rows } = await pool.query<Tag & { noteId: string }>(`
        select nt.note_id as "noteId", t.id, t.name from note_tags nt join tags t on t.id = nt.tag_id join notes n on n.id = nt.note_id
        where nt.note_id = any($1::bigint[]) and ${visibleTo(viewer, 2)} order by nt.note_id, t.id`, [noteIds, ...viewerId])
      return grouped(noteIds, rows, (row) => row.noteId).map((tags) => tags.map(({ id, name }) => ({ id, name })))
    }),
    notesByAuthor (first, after) {
      const window = `${first}:${after ?? ''}`
      let loader = windows.get(window)
      if (loader === undefined) {
        // Each author gets its own window: a LATERAL subquery per unnested id, one statement.
        loader = new DataLoader(async (authorIds) => {
          const { rows } = await pool.query<Note>(`
            select n.* from unnest($1::bigint[]) as a(id) cross join lateral (
              select ${NOTE_COLUMNS} from notes n where n.author_id = a.id and n.id > $2 and ${visibleTo(viewer, 4)} order by n.id limit $3) n
            order by n."authorId", n.id`, [authorIds, after ?? '0', first, ...viewerId])
          return grouped(authorIds, rows, (row) => row.authorId)
        })
        windows.set(window, loader)
      }
      return loader
    }
  }
}

// Private:

function inKeyOrder<T> (keys: readonly string[], rows: T[], keyOf: (row: T) => string): Array<T | null> {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]))
  return keys.map((key) => byKey.get(key) ?? null)
}

function grouped<T> (keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]))
  for (const row of rows) groups.get(keyOf(row))?.push(row)
  return keys.map((key) => groups.get(key)!)
}
