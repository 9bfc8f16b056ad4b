/**
 * The row cache beneath the loaders: rows read from PostgreSQL once and shared by every
 * request and viewer (users, notes, a note's tags, an author's notes), so that a response the
 * per-user response cache cannot serve (a user's first look at a public note) still needs no
 * SQL. It holds rows, never responses: each request applies its own viewer's rule to them
 * (isNoteVisibleTo), so sharing rows never shares what one viewer may see with another.
 *
 * Our own code: lru-cache bounds it; invalidation by the response cache's tags (the same
 * `Note:42`, `notes@author:7` a mutation names, local or from another process) and its race
 * safety are ours. Race safety works as in the memory store: a read takes a ticket (the
 * invalidation count) before its statement, and its rows are stored only if none of their
 * tags was invalidated since.
 */
import { LRUCache } from 'lru-cache'
import { createTagIndex } from './tag-index.ts'

export interface RowCache {
  /** Whether rows are kept at all (ROW_CACHE_MAX_ENTRIES > 0 and the response cache on). */
  readonly enabled: boolean
  ticket (): number
  get<T> (key: string): T | undefined
  /** Keeps `value` under `key` unless a tag of it was invalidated after `ticket`. */
  set (key: string, value: unknown, tags: readonly string[], ticket: number): void
  invalidate (tags: readonly string[]): void
  clear (): void
  readonly size: number
}

interface Entry { value: unknown, tags: readonly string[] }

export function createRowCache ({ maxEntries, maxTrackedTags = 100_000 }: { maxEntries: number, maxTrackedTags?: number }): RowCache {
  if (maxEntries <= 0) return disabledRowCache
  const tagIndex = createTagIndex()
  const invalidatedAt = new Map<string, number>()
  let seq = 0
  let forgottenBefore = 0
  const entries = new LRUCache<string, Entry>({
    max: maxEntries,
    dispose: (entry, key, reason) => { if (reason !== 'set') tagIndex.remove(key, entry.tags) }
  })


  return {
    enabled: true,
    ticket: () => seq,
    get: <T>(key: string) => entries.get(key)?.value as T | undefined,

    set (key, value, tags, ticket) {
      if (forgottenBefore > ticket) return
      for (const tag of tags) if ((invalidatedAt.get(tag) ?? 0) > ticket) return
      entries.set(key, { value, tags })
      tagIndex.add(key, tags)
    },

    invalidate (tags) {
      seq++
      // Forgetting positions could let a racing read store stale rows: refuse all in flight.
      if (invalidatedAt.size + tags.length > maxTrackedTags) {
        invalidatedAt.clear()
        forgottenBefore = seq
      }
      for (const tag of tags) {
        invalidatedAt.set(tag, seq)
        for (const key of tagIndex.keysOf(tag)) entries.delete(key)
      }
    },

    clear () {
      seq++
      forgottenBefore = seq
      entries.clear()
      tagIndex.clear()
    },

    get size () { return entries.size }
  }
}

/** With the row cache off every lookup misses and nothing is kept: loaders read SQL as before. */
export const disabledRowCache: RowCache = Object.freeze({
  enabled: false,
  ticket: () => 0,
  get: () => undefined,
  set: () => {},
  invalidate: () => {},
  clear: () => {},
  size: 0
})
