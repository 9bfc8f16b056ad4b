/**
 * Tag → keys, for invalidation by tag: which cached entries carry `Note:42`. Shared by the
 * response cache's memory tier and the row cache; each removes an entry's keys when lru-cache
 * drops the entry (eviction, expiry, delete), so the index never outgrows the cache.
 */
export interface TagIndex {
  add (key: string, tags: readonly string[]): void
  remove (key: string, tags: readonly string[]): void
  /** The keys carrying `tag`, copied: the caller may delete entries while walking them. */
  keysOf (tag: string): string[]
  clear (): void
}

export function createTagIndex (): TagIndex {
  const keysByTag = new Map<string, Set<string>>()
  return {
    add (key, tags) {
      for (const tag of tags) {
        let keys = keysByTag.get(tag)
        if (keys === undefined) keysByTag.set(tag, keys = new Set())
        keys.add(key)
      }
    },
    remove (key, tags) {
      for (const tag of tags) {
        const keys = keysByTag.get(tag)
        if (keys === undefined) continue
        keys.delete(key)
        if (keys.size === 0) keysByTag.delete(tag)
      }
    },
    keysOf: (tag) => {
      const keys = keysByTag.get(tag)
      return keys === undefined ? [] : [...keys]
    },
    clear: () => keysByTag.clear()
  }
}
