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
  /** Stops the sweep of expired entries. */
  close (): void
}

export interface MemoryStoreOptions {
  maxBytes: number
  /** Called once per entry pushed out by the byte bound (not for expiry or invalidation). */
  onEvict?: () => void
  /** Per-tag positions kept before they are forgotten conservatively (see `forgetPositions`). */
  maxTrackedTags?: number
  /** How often expired entries are swept out (ms; 0 = never, they wait to be touched or pushed out). */
  sweepIntervalMs?: number
}

/** How far past its expiry (by our clock) an entry is swept, so lru-cache's clock agrees. */
const SWEEP_SLACK_MS = 50

/** Rough per-entry bookkeeping cost beyond the body, so many tiny entries are bounded too. */
const ENTRY_OVERHEAD_BYTES = 256

export function createMemoryStore ({ maxBytes, onEvict, maxTrackedTags = 100_000, sweepIntervalMs = 250 }: MemoryStoreOptions): MemoryStore {
  const tagIndex = createTagIndex()
  const invalidatedAt = new Map<string, number>()
  let seq = 0
  let clearedAt = 0

  const entries = new LRUCache<string, StoredResponse>({
    maxSize: maxBytes,
    sizeCalculation: (response, key) => response.body.byteLength + key.length + tagBytes(response.tags) + ENTRY_OVERHEAD_BYTES,
    // No timer per entry: expired entries are dropped when touched, pushed out, or swept below.
    ttlAutopurge: false,
    dispose: (response, key, reason) => {
      if (reason === 'evict') onEvict?.()
      // On 'set' the key is being overwritten: the new entry re-adds its own tags.
      if (reason !== 'set') tagIndex.remove(key, response.tags)
    }
  })
  // The sweep (measured, issue 7): without it a tier under a wide key space (200 users × 4000
  // notes) filled its whole byte bound with expired entries, and their bodies and tag-index
  // sets were most of a 150–250 MB heap whose collection made the latency tail. lru-cache's
  // purgeStale() walks every entry at once (tried every 5 s: the per-second latencies of a
  // load test showed a 5-second beat of 20–60 ms maxima), and its iterators skip expired
  // entries; so
  // each store also queues its expiry time, one FIFO queue per TTL (so each queue is in
  // expiry order), and each tick pops only what has expired since the last one.
  const expiries = createExpiryQueues()
  const sweep = sweepIntervalMs > 0 ? setInterval(sweepExpired, sweepIntervalMs).unref() : undefined

  function sweepExpired (): void {
    // lru-cache keeps its own clock: the slack makes sure a popped key has expired by that
    // clock too (one popped a hair early would stay until touched or pushed out).
    expiries.popExpired(performance.now() - SWEEP_SLACK_MS, (key) => {
      if (entries.getRemainingTTL(key) <= 0) entries.delete(key)
    })
  }

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
      entries.set(key, withOwnBytes(response), { ttl: ttlMs })
      if (!entries.has(key)) return false // larger than the whole bound: lru-cache refused it
      tagIndex.add(key, response.tags)
      if (sweep !== undefined) expiries.push(key, ttlMs, performance.now() + ttlMs)
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
      expiries.clear()
    },

    accepts,
    get bytes () { return entries.calculatedSize },
    get size () { return entries.size },
    close () { clearInterval(sweep) }
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

/**
 * The response with a body that owns its memory. Small Buffers are slices of Node's shared
 * 8 KiB pool, and Redis replies slices of a socket chunk: one cached slice keeps the whole
 * chunk alive, and a tier of ~300-byte bodies held ~8 KiB each (RSS ~485 MiB in a 3-minute
 * run at 1000 rps, issue 7). The copy is made once, on the store path.
 */
function withOwnBytes (response: StoredResponse): StoredResponse {
  const { body } = response
  if (body.byteOffset === 0 && body.buffer.byteLength === body.byteLength) return response
  const own = Buffer.allocUnsafeSlow(body.byteLength)
  body.copy(own)
  return { ...response, body: own }
}

function tagBytes (tags: readonly string[]): number {
  let bytes = 0
  for (const tag of tags) bytes += tag.length + 16
  return bytes
}
