/**
 * The one visibility rule, as SQL, inlined into every statement that reads notes:
 * a note is visible to its author, to admins, and to everyone when PUBLIC.
 *
 * Three fragments rather than one with `or $admin`: PostgreSQL's generic plans cannot prune a
 * boolean parameter, and the anonymous form can use the partial index on public notes.
 */
import type { Viewer } from '../viewer.ts'
import { sql, type SqlFragment } from './sql-template.ts'

/** The rule for notes aliased `alias` (a fixed name in our SQL, never client input). */
export function noteVisibleTo (viewer: Viewer, alias = 'n'): SqlFragment {
  const table = sql.unsafe(alias)
  if (viewer.role === 'admin') return sql`true`
  if (viewer.id === null) return sql`${table}.visibility = 'PUBLIC'`
  return sql`(${table}.visibility = 'PUBLIC' or ${table}.author_id = ${viewer.id})`
}

/**
 * The same rule in JavaScript, for rows read once and shared between viewers (the row cache
 * beneath the loaders): authorization is still applied per request. A test keeps the two in
 * step over random viewers and notes.
 */
export function isNoteVisibleTo (viewer: Viewer, note: { visibility: string, authorId: string }): boolean {
  // A public note asks nothing of the viewer: its answer is the same for everyone.
  return note.visibility === 'PUBLIC' || viewer.seesAllOf(note.authorId)
}

/**
 * The viewer for statements whose rows are shared between viewers: it sees every row, so
 * `noteVisibleTo` adds no condition. Its rows must pass `isNoteVisibleTo` before use.
 */
export const everyRowReader: Viewer = Object.freeze({ id: null, role: 'admin', scope: 'shared-rows', seesAllOf: () => true })
