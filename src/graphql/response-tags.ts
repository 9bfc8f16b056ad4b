/**
 * Resolvers pass every object they return through these, so the response carries the entity
 * tags of everything in it (for the response cache's invalidation) and the list tags of the
 * lists it read.
 */
import { cacheTags, type EntityType } from '../changes/cache-tags.ts'
import type { RequestContext } from './context.ts'

export function seen<T extends { id: string } | null | undefined> (ctx: RequestContext, type: EntityType, row: T): T {
  if (row) ctx.cacheTags.add(cacheTags.entity(type, row.id))
  return row
}

export function seenAll<T extends { id: string }> (ctx: RequestContext, type: EntityType, rows: T[], ...listTags: string[]): T[] {
  for (const row of rows) ctx.cacheTags.add(cacheTags.entity(type, row.id))
  for (const tag of listTags) ctx.cacheTags.add(tag)
  return rows
}
