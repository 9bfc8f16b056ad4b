/**
 * Which misses are worth storing: a key whose stored responses keep being invalidated before
 * anyone reads them is stored less and less often, and fully again once one of its entries is
 * read. Our own code: lru-cache and Redis have no admission policy of this kind, and the
 * signal it needs (an entry invalidated with no hit) exists only inside this cache.
 *
 * Why: under the write mix (10 % writes) 94 % of cacheable reads missed, and almost every
 * stored response was dropped by an invalidation before its first hit (its author wrote, or
 * a user was renamed); each store still paid for the body's copy, its ETag hash, the LRU and
 * the tag index, and each invalidation for the removal. Figures: docs/performance.md
 * ("Stores that nobody reads").
 *
 * The rule, per key: after `streak` entries in a row were invalidated unread, the next
 * 2^(streak − 1) − 1 misses of that key are not stored (0 after the first, then 1, 3, 7 and
 * 15 at most); the store after that is tried again. A hit forgets the key. So one write
 * between reads changes nothing (read, write, read, read still hits), a key read between
 * writes loses at most one store's worth of hits, and one never read between writes is
 * stored once in 16 misses at most. The record is bounded (an LRU of keys); a key pushed out
 * starts again from "store".
 *
 * Safety is not at stake here: skipping a store never serves anything; what may be stored
 * is still the race tracker's call.
 */
import { LRUCache } from 'lru-cache'

export interface StoreAdmission {
  /** Whether this miss of `key` should be stored (counts one skip when not). */
  admits (key: string): boolean
  /** An entry of `key` was invalidated before its first hit. */
  wasted (key: string): void
  /** An entry of `key` was read: store its misses again. */
  read (key: string): void
  readonly keysTracked: number
  clear (): void
}

export const DEFAULT_ADMISSION_MAX_KEYS = 50_000
export const MAX_WASTE_STREAK = 5

interface Record { streak: number, skipsLeft: number }

export function createStoreAdmission (maxKeys = DEFAULT_ADMISSION_MAX_KEYS): StoreAdmission {
  const records = new LRUCache<string, Record>({ max: maxKeys })
  return {
    admits (key) {
      const record = records.get(key)
      if (record === undefined || record.skipsLeft === 0) return true
      record.skipsLeft--
      return false
    },
    wasted (key) {
      const record = records.get(key)
      const streak = Math.min(MAX_WASTE_STREAK, (record?.streak ?? 0) + 1)
      const skipsLeft = 2 ** (streak - 1) - 1
      if (record === undefined) records.set(key, { streak, skipsLeft })
      else Object.assign(record, { streak, skipsLeft })
    },
    read (key) { records.delete(key) },
    get keysTracked () { return records.size },
    clear () { records.clear() }
  }
}
