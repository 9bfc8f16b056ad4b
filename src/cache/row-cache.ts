/**
 * The row cache beneath the loaders: rows read from PostgreSQL once and shared by every
 * request and viewer (users, notes, a note's tags, an author's notes, note counts), so that a
 * response the per-user response cache cannot serve (a user's first look at a public note)
 * still needs no SQL. It holds rows, never answers: each request applies its own viewer's rule
 * to them, so sharing rows never shares what one viewer may see with another.
 *
 * Bounded in bytes (ROW_CACHE_MAX_BYTES, values measured roughly: strings by length) and in
 * time (ROW_CACHE_TTL_MS, each entry a random part of it: spreadTtl). Dropped by tags from the
 * invalidation bus only; a read stores its rows only if the race tracker says none of their
 * tags was invalidated since its ticket.
 * While the bus is not listening every lookup misses and nothing is stored.
 */
import { LRUCache } from 'lru-cache'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { InvalidationBus } from './invalidation-bus.ts'
import { reusableGetOptions } from './lru-get-options.ts'
import type { RaceTracker, Ticket } from './race-tracker.ts'
import { spreadTtl } from './spread-ttl.ts'
import { createTagIndex } from './tag-index.ts'

export interface RowCache {
  /** Whether rows are kept at all (ROW_CACHE_MAX_BYTES > 0 and the response cache on). */
  readonly enabled: boolean
  ticket (): Ticket
  get<T> (key: string): T | undefined
  /** Keeps `value` under `key` unless a tag of it was invalidated after `ticket`. */
  set (key: string, value: unknown, tags: readonly string[], ticket: Ticket): void
  readonly size: number
  readonly bytes: number
}

export interface RowCacheOptions {
  maxBytes: number
  ttlMs: number
  bus: InvalidationBus
  tracker: RaceTracker
  registry?: Registry
}

interface Entry { value: unknown, tags: readonly string[] }

/** Per-entry bookkeeping beyond the value: the key, the LRU node, the tag-index sets. */
const ENTRY_OVERHEAD_BYTES = 200

export function createRowCache ({ maxBytes, ttlMs, bus, tracker, registry }: RowCacheOptions): RowCache {
  if (maxBytes <= 0 || ttlMs <= 0) return disabledRowCache
  // Plain numbers on the lookup path (every authenticated request makes one); Prometheus reads them.
  const counts = { hits: 0, misses: 0, bypasses: 0 }
  const metrics = createRowCacheMetrics(registry, counts, () => entries.calculatedSize)
  const tagIndex = createTagIndex()
  const getOptions = reusableGetOptions<string, Entry>()
  const entries: LRUCache<string, Entry> = new LRUCache<string, Entry>({
    maxSize: maxBytes,
    ttl: ttlMs,
    // Expired rows are dropped when touched or pushed out by the byte bound; never served.
    ttlAutopurge: false,
    sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + key.length + approximateBytes(entry.value) + tagBytes(entry.tags),
    dispose: (entry, key, reason) => {
      if (reason === 'evict') metrics.evictions.inc()
      if (reason !== 'set') tagIndex.remove(key, entry.tags)
    }
  })

  bus.subscribe({
    invalidate (tags) {
      for (const tag of tags) {
        for (const key of tagIndex.keysOf(tag)) entries.delete(key)
      }
    },
    clear () {
      entries.clear()
      tagIndex.clear()
    }
  })

  return {
    enabled: true,
    ticket: () => tracker.ticket(),

    get<T> (key: string): T | undefined {
      if (!bus.listening) {
        counts.bypasses++
        return undefined
      }
      const entry = entries.get(key, getOptions)
      if (entry === undefined) counts.misses++
      else counts.hits++
      return entry?.value as T | undefined
    },

    set (key, value, tags, ticket) {
      if (!bus.listening || !tracker.accepts(tags, ticket)) return
      const kept = tagIndex.intern(tags)
      entries.set(key, { value, tags: kept }, { ttl: spreadTtl(ttlMs) })
      // Larger than the whole bound: lru-cache refused it.
      if (entries.has(key)) tagIndex.add(key, kept)
    },

    get size () { return entries.size },
    get bytes () { return entries.calculatedSize }
  }
}

/** With the row cache off every lookup misses and nothing is kept: loaders read SQL as before. */
export const disabledRowCache: RowCache = Object.freeze({
  enabled: false,
  ticket: () => ({ seq: 0, wallMs: 0 }),
  get: () => undefined,
  set: () => {},
  size: 0,
  bytes: 0
})

/**
 * A rough size of a row or a list of rows: enough to bound memory by what matters (note
 * bodies up to 100 KB), not an exact heap measurement.
 */
export function approximateBytes (value: unknown): number {
  if (typeof value === 'string') return 16 + value.length
  if (value === null || value === undefined) return 8
  if (typeof value !== 'object') return 8
  if (value instanceof Date) return 32
  let bytes = 16
  if (Array.isArray(value)) {
    for (const item of value) bytes += 8 + approximateBytes(item)
    return bytes
  }
  for (const key in value) bytes += 16 + approximateBytes((value as Record<string, unknown>)[key])
  return bytes
}

// Private:

function tagBytes (tags: readonly string[]): number {
  let bytes = 0
  for (const tag of tags) bytes += tag.length + 16
  return bytes
}

function createRowCacheMetrics (registry: Registry | undefined, counts: { hits: number, misses: number, bypasses: number }, bytesHeld: () => number) {
  const registers = registry === undefined ? [] : [registry]
  const counter = (name: string, help: string, read: () => number): Counter => new Counter({
    name, help, registers, collect () { this.reset(); this.inc(read()) }
  })
  return {
    hits: counter('jotter_row_cache_hits_total', 'Row lookups answered by the row cache.', () => counts.hits),
    misses: counter('jotter_row_cache_misses_total', 'Row lookups the row cache could not answer (read from PostgreSQL).', () => counts.misses),
    bypasses: counter('jotter_row_cache_bypasses_total', 'Row lookups not tried because the invalidation bus was not listening.', () => counts.bypasses),
    evictions: new Counter({ name: 'jotter_row_cache_evictions_total', help: 'Rows pushed out by ROW_CACHE_MAX_BYTES.', registers }),
    bytes: new Gauge({ name: 'jotter_row_cache_bytes', help: 'Bytes held by the row cache (approximate).', registers, collect () { this.set(bytesHeld()) } })
  }
}
