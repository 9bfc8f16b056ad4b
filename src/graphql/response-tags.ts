/**
 * Resolvers pass every object they return through these, so the response carries the entity
 * tags of everything in it (for the response cache's invalidation) and the list tags of the
 * lists it read; mutations say what they changed through `changed`.
 */
import { cacheTags, type EntityType } from '../changes/cache-tags.ts'
import { tagsOfChange, type ChangedFacts } from '../changes/database-changes.ts'
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

/**
 * A mutation's write: what it changed, as facts. This process drops the tags that depend on
 * them (changes/database-changes.ts decides which) before the response leaves.
 */
export function changed (ctx: RequestContext, facts: ChangedFacts): void {
  for (const tag of tagsOfChange(facts)) ctx.invalidatedTags.add(tag)
}
