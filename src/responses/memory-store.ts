/**
 * The memory tier: lru-cache bounded in bytes (CACHE_MAX_BYTES), TTL per entry, and a tag →
 * keys index so that an invalidation frees the entries it makes stale at once (whether an
 * entry may be stored at all is the race tracker's call, in response-cache.ts).
 */
import { LRUCache } from 'lru-cache'
import { reusableGetOptions } from '../cache-primitives/lru-get-options.ts'
import { createTagIndex, tagBytes } from '../cache-primitives/tag-index.ts'
import type { Found, ResponseStore, StoredResponse } from './response-store.ts'

export interface MemoryStore extends ResponseStore {
  lookup (key: string): Found | undefined
  /** The response under `key`, without its remaining TTL (a hit needs none): no object per call. */
  responseOf (key: string): StoredResponse | undefined
  /** False when lru-cache refused it (larger than the whole bound) or the TTL is 0. */
  store (key: string, response: StoredResponse, ttlMs: number): boolean
  /** Drops every entry carrying any of `tags`; returns how many it dropped. */
  invalidate (tags: readonly string[]): number
  clear (): void
  /** Bytes held, as counted against maxBytes. */
  readonly bytes: number
  readonly size: number
  /** Stops the sweep of expired entries. */
  close (): void
}

export interface MemoryStoreOptions {
  maxBytes: number
  /** Called once per entry pushed out by the byte bound (not for expiry or invalidation). */
  onEvict?: () => void
  /** How often expired entries are swept out (ms; 0 = never, they wait to be touched or pushed out). */
  sweepIntervalMs?: number
}

/** How far past its expiry (by our clock) an entry is swept, so lru-cache's clock agrees. */
const SWEEP_SLACK_MS = 50

/**
 * What an entry keeps on the heap beyond its body, key and tags: the StoredResponse and its
 * ETag, the tags array, lru-cache's slots for it. Measured, so that CACHE_MAX_BYTES bounds
 * the heap an operator budgets for (test/cache/byte-accounting.test.ts fills the real app and
 * compares; docs/performance.md, "Cache entries counted with their heap cost").
 */
export const ENTRY_OVERHEAD_BYTES = 650

export function createMemoryStore ({ maxBytes, onEvict, sweepIntervalMs = 250 }: MemoryStoreOptions): MemoryStore {
  const tagIndex = createTagIndex()
  const getOptions = reusableGetOptions<string, StoredResponse>()

  const entries = new LRUCache<string, StoredResponse>({
    maxSize: maxBytes,
    sizeCalculation: (response, key) => Buffer.byteLength(response.body) + key.length + tagBytes(response.tags) + ENTRY_OVERHEAD_BYTES,
    // No timer per entry: expired entries are dropped when touched, pushed out, or swept below.
    ttlAutopurge: false,
    dispose: (response, key, reason) => {
      if (reason === 'evict') onEvict?.()
      // Also on 'set' (overwritten, or refused as too large): the new entry adds its own tags
      // afterwards, and tags it no longer carries must not keep its key (a leak, and an
      // invalidation of them would drop the new entry).
      tagIndex.remove(key, response.tags)
    }
  })
  // The sweep: without it a tier under a wide key space fills its byte bound with expired
  // entries, whose bodies and tag-index sets become most of the heap and its collections the
  // latency tail. lru-cache's purgeStale() walks every entry at once (a long pause at every
  // call) and its iterators skip expired entries; so each store also queues its expiry time,
  // one FIFO queue per TTL (so each queue is in expiry order), and each tick pops only what
  // has expired since the last one (docs/performance.md, "Figures behind the code").
  const expiries = createExpiryQueues()
  const sweep = sweepIntervalMs > 0 ? setInterval(sweepExpired, sweepIntervalMs).unref() : undefined

  function sweepExpired (): void {
    // lru-cache keeps its own clock: the slack makes sure a popped key has expired by that
    // clock too (one popped a hair early would stay until touched or pushed out).
    expiries.popExpired(performance.now() - SWEEP_SLACK_MS, (key) => {
      if (entries.getRemainingTTL(key) <= 0) entries.delete(key)
    })
  }

  return {
    lookup (key) {
      const response = entries.get(key, getOptions)
      return response === undefined ? undefined : { response, remainingTtlMs: entries.getRemainingTTL(key) }
    },

    responseOf: (key) => entries.get(key, getOptions),

    store (key, response, ttlMs) {
      if (ttlMs <= 0) return false
      const kept = withInternedTags(response, tagIndex.intern(response.tags))
      entries.set(key, kept, { ttl: ttlMs })
      if (!entries.has(key)) return false // larger than the whole bound: lru-cache refused it
      tagIndex.add(key, kept.tags)
      if (sweep !== undefined) expiries.push(key, ttlMs, performance.now() + ttlMs)
      return true
    },

    invalidate (tags) {
      let dropped = 0
      for (const tag of tags) {
        for (const key of tagIndex.keysOf(tag)) if (entries.delete(key)) dropped++
      }
      return dropped
    },

    clear () {
      entries.clear()
      tagIndex.clear()
      expiries.clear()
    },

    get bytes () { return entries.calculatedSize },
    get size () { return entries.size },
    close () { clearInterval(sweep) }
  }
}

// Private:

interface ExpiryQueues {
  push (key: string, ttlMs: number, expiresAt: number): void
  /** Calls `expired` for every queued key whose time is at or before `now`, oldest first. */
  popExpired (now: number, expired: (key: string) => void): void
  clear (): void
}

/**
 * One FIFO queue per distinct TTL: within one TTL, later stores expire later, so each queue
 * is sorted by construction and popping its front is all a sweep does. A queued key may have
 * been deleted or stored again since; the caller checks before deleting.
 */
function createExpiryQueues (): ExpiryQueues {
  const queues = new Map<number, { keys: string[], times: number[], head: number }>()
  return {
    push (key, ttlMs, expiresAt) {
      let queue = queues.get(ttlMs)
      if (queue === undefined) queues.set(ttlMs, queue = { keys: [], times: [], head: 0 })
      queue.keys.push(key)
      queue.times.push(expiresAt)
    },
    popExpired (now, expired) {
      for (const [ttlMs, queue] of queues) {
        while (queue.head < queue.times.length && queue.times[queue.head] <= now) expired(queue.keys[queue.head++])
        if (queue.head === queue.times.length) queues.delete(ttlMs)
        else if (queue.head > 1024 && queue.head * 2 > queue.times.length) {
          // Drop the popped front now and then: amortised O(1), and the arrays stay small.
          queue.keys.splice(0, queue.head)
          queue.times.splice(0, queue.head)
          queue.head = 0
        }
      }
    },
    clear: () => queues.clear()
  }
}

/** What the memory tier keeps: the response with the index's tag strings. */
function withInternedTags (response: StoredResponse, tags: string[]): StoredResponse {
  return { ...response, tags }
}
