/**
 * Tag → keys, for invalidation by tag: which cached entries carry `Note:42`. Shared by the
 * response cache's memory tier and the row cache; each removes an entry's keys when lru-cache
 * drops the entry (eviction, expiry, delete), so the index never outgrows the cache.
 *
 * It also hands out one string per tag (`intern`): every response builds its tags afresh
 * (`Note:42` once per request that shows note 42), and without it every entry would keep its
 * own copies, many times more strings than distinct tags, each one more object for every major
 * GC to mark (docs/performance.md, "Figures behind the code").
 */
export interface TagIndex {
  /** `tags` with each tag the index already knows replaced by its own copy of the string. */
  intern (tags: readonly string[]): string[]
  add (key: string, tags: readonly string[]): void
  remove (key: string, tags: readonly string[]): void
  /** The keys carrying `tag`, copied: the caller may delete entries while walking them. */
  keysOf (tag: string): string[]
  clear (): void
}

/**
 * What one tag of one cached entry costs the heap, for the caches' byte bounds: its slot in
 * the entry's tags array and in the index's set of keys (the string itself is shared).
 */
export const TAG_ENTRY_BYTES = 32

/** What an entry's tags cost, as the caches count them. */
export function tagBytes (tags: readonly string[]): number {
  return tags.length * TAG_ENTRY_BYTES
}

interface TagKeys {
  /** The string the index keeps for this tag (the first one it was given). */
  readonly tag: string
  readonly keys: Set<string>
}

export function createTagIndex (): TagIndex {
  const byTag = new Map<string, TagKeys>()
  return {
    intern: (tags) => tags.map((tag) => byTag.get(tag)?.tag ?? tag),
    add (key, tags) {
      for (const tag of tags) {
        let entry = byTag.get(tag)
        if (entry === undefined) byTag.set(tag, entry = { tag, keys: new Set() })
        entry.keys.add(key)
      }
    },
    remove (key, tags) {
      for (const tag of tags) {
        const entry = byTag.get(tag)
        if (entry === undefined) continue
        entry.keys.delete(key)
        if (entry.keys.size === 0) byTag.delete(tag)
      }
    },
    keysOf: (tag) => {
      const entry = byTag.get(tag)
      return entry === undefined ? [] : [...entry.keys]
    },
    clear: () => byTag.clear()
  }
}
