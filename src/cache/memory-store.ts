/**
 * The memory tier: lru-cache bounded in bytes (CACHE_MAX_BYTES), TTL per entry, a tag → keys
 * index for invalidation, and per-tag invalidation positions for race safety.
 *
 * Race safety (own code): `seq` counts invalidations; `lookup` hands out the current `seq` as
 * its ticket; `invalidate` records, per tag, the `seq` at which it was last invalidated. A store
 * whose ticket is older than the last invalidation of any of its tags is refused: its
 * execution may have read data from before that invalidation.
 */
import { LRUCache } from 'lru-cache'
import { createTagIndex } from './tag-index.ts'
import type { Lookup, ResponseStore, StoredResponse } from './response-store.ts'

export interface MemoryStore extends ResponseStore {
  lookup (key: string): Lookup
  store (key: string, response: StoredResponse, ttlMs: number, ticket: unknown): boolean
  invalidate (tags: readonly string[]): void
  clear (): void
  /** Whether a store with this ticket would be accepted now (checked before the Redis write). */
  accepts (tags: readonly string[], ticket: unknown): boolean
  /** Bytes held, as counted against maxBytes. */
  readonly bytes: number
  readonly size: number
}

export interface MemoryStoreOptions {
  maxBytes: number
  /** Called once per entry pushed out by the byte bound (not for expiry or invalidation). */
  onEvict?: () => void
  /** Per-tag positions kept before they are forgotten conservatively (see `forgetPositions`). */
  maxTrackedTags?: number
}

/** Rough per-entry bookkeeping cost beyond the body, so many tiny entries are bounded too. */
const ENTRY_OVERHEAD_BYTES = 256

export function createMemoryStore ({ maxBytes, onEvict, maxTrackedTags = 100_000 }: MemoryStoreOptions): MemoryStore {
  const tagIndex = createTagIndex()
  const invalidatedAt = new Map<string, number>()
  let seq = 0
  let clearedAt = 0

  const entries = new LRUCache<string, StoredResponse>({
    maxSize: maxBytes,
    sizeCalculation: (response, key) => response.body.byteLength + key.length + tagBytes(response.tags) + ENTRY_OVERHEAD_BYTES,
    // Expired entries are dropped when touched or pushed out; no timer per entry.
    ttlAutopurge: false,
    dispose: (response, key, reason) => {
      if (reason === 'evict') onEvict?.()
      // On 'set' the key is being overwritten: the new entry re-adds its own tags.
      if (reason !== 'set') tagIndex.remove(key, response.tags)
    }
  })


  function accepts (tags: readonly string[], ticket: unknown): boolean {
    const since = ticket as number
    if (clearedAt > since) return false
    for (const tag of tags) {
      if ((invalidatedAt.get(tag) ?? 0) > since) return false
    }
    return true
  }

  return {
    lookup (key) {
      const response = entries.get(key)
      return { response, remainingTtlMs: response === undefined ? 0 : entries.getRemainingTTL(key), ticket: seq }
    },

    store (key, response, ttlMs, ticket) {
      if (ttlMs <= 0 || !accepts(response.tags, ticket)) return false
      entries.set(key, response, { ttl: ttlMs })
      if (!entries.has(key)) return false // larger than the whole bound: lru-cache refused it
      tagIndex.add(key, response.tags)
      return true
    },

    invalidate (tags) {
      seq++
      if (invalidatedAt.size + tags.length > maxTrackedTags) forgetPositions()
      for (const tag of tags) {
        invalidatedAt.set(tag, seq)
        for (const key of tagIndex.keysOf(tag)) entries.delete(key)
      }
    },

    clear () {
      seq++
      clearedAt = seq
      entries.clear()
      tagIndex.clear()
    },

    accepts,
    get bytes () { return entries.calculatedSize },
    get size () { return entries.size }
  }

  /**
   * Bounds the position map: forgetting a tag's position could let a racing store through, so
   * instead every execution in flight is treated as overlapping an invalidation.
   */
  function forgetPositions (): void {
    invalidatedAt.clear()
    clearedAt = seq
  }
}

// Private:

function tagBytes (tags: readonly string[]): number {
  let bytes = 0
  for (const tag of tags) bytes += tag.length + 16
  return bytes
}
