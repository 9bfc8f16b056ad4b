/**
 * The viewer of a signed-in request, from the users row rather than the token alone: the token
 * proves who the user is; the row says whether they still exist and what role they have now.
 * The row comes through the row cache (the same `User:<id>` entry the loaders use), so a warm
 * request runs no SQL, and a demotion or deletion takes effect as soon as the invalidation bus
 * drops that row (and at the latest after ROW_CACHE_TTL_MS).
 */
import type { RowCache } from '../rows/row-cache.ts'
import type { QueryScope } from '../db/gateway.ts'
import type { UserRow } from '../db/rows.ts'
import type { RowSources } from '../rows/row-sources.ts'
import { apiError } from '../errors.ts'
import { userViewer, type Viewer } from '../viewer.ts'

export interface ViewerFromRow {
  /** The viewer from the cached users row, at once; undefined when the row must be read. */
  cached (userId: string): Viewer | undefined
  /**
   * Reads the row (after cached() said it is not cached) and keeps it in the row cache.
   * `scope` is made only here: a warm request makes none.
   */
  read (userId: string, scope: () => QueryScope): Promise<Viewer>
}

export function createViewerFromRow ({ rowSources, rowCache }: { rowSources: RowSources, rowCache: RowCache }): ViewerFromRow {
  const users = rowSources.user
  // One frozen viewer per row object: a warm request allocates none.
  const viewers = new WeakMap<UserRow, Viewer>()
  const viewerOf = (row: UserRow): Viewer => {
    let viewer = viewers.get(row)
    if (viewer === undefined) viewers.set(row, viewer = userViewer(row.id, row.role))
    return viewer
  }
  return {
    cached (userId) {
      const row = rowCache.get<UserRow>(users.keyOf(userId))
      return row === undefined ? undefined : viewerOf(row)
    },
    async read (userId, scope) {
      const ticket = rowCache.ticket()
      const row = (await users.read(scope(), [userId])).get(userId)
      if (row === undefined) throw apiError('TOKEN_USER_GONE')
      rowCache.set(users.keyOf(userId), row.value, row.tags, ticket, { source: users, id: userId })
      return viewerOf(row.value)
    }
  }
}
