/**
 * A write's transaction id, read in its own RETURNING and kept in the request's scope: the
 * invalidation triggers put the same id in their notification (migrations/004), so the writer
 * can wait for its own commit's notification before its response leaves (read-your-writes)
 * without sending anything more to PostgreSQL.
 */
import type { QueryScope } from './gateway.ts'
import type { SqlBuilder, SqlFragment } from './sql-template.ts'

/** The column to add to a write's RETURNING (or to the select around a write function). */
export function commitColumn (sql: SqlBuilder): SqlFragment {
  return sql.unsafe('pg_current_xact_id()::text as "commit"')
}

/** The row without its `commit` column, which is kept in `scope.commits`. */
export function takeCommit<R extends { commit: string }> (scope: QueryScope, row: R): Omit<R, 'commit'> {
  const { commit, ...rest } = row
  scope.commits?.push(commit)
  return rest
}
