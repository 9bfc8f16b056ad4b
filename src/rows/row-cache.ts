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
 *
 * Refresh ahead (our own; lru-cache's `fetch` refreshes one key at a time and serves the stale
 * value past its TTL, which the bound forbids): a row served after half its lifetime is queued,
 * and every REFRESH_DELAY_MS the queue is read again off the request path, one statement per
 * kind of row (its RowSource), and stored under a new ticket with a new lifetime. A row still
 * in use is thus never older than the TTL and yet never expires under a request, where the
 * read mix would otherwise re-read its working set once a TTL (docs/performance.md, "Rows
 * refreshed ahead of expiry"). A row nobody reads expires; one whose refresh finds it gone is
 * dropped.
 */
import { LRUCache } from 'lru-cache'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { FastifyBaseLogger } from 'fastify'
import type { QueryScope } from '../db/gateway.ts'
import { createDeadline } from '../deadline/deadline.ts'
import type { InvalidationBus } from '../changes/invalidation-bus.ts'
import { reusableGetOptions } from '../cache-primitives/lru-get-options.ts'
import type { RaceTracker, Ticket } from '../changes/race-tracker.ts'
import { spreadTtl } from '../cache-primitives/spread-ttl.ts'
import { createTagIndex, tagBytes } from '../cache-primitives/tag-index.ts'

export interface RowCache {
  /** Whether rows are kept at all (ROW_CACHE_MAX_BYTES > 0 and the response cache on). */
  readonly enabled: boolean
  ticket (): Ticket
  get<T> (key: string): T | undefined
  /**
   * Keeps `value` under `key` unless a tag of it was invalidated after `ticket`. With `origin`
   * (where the row came from) it is refreshed ahead of expiry while it is read.
   */
  set (key: string, value: unknown, tags: readonly string[], ticket: Ticket, origin?: RowOrigin): void
  readonly size: number
  readonly bytes: number
  /** Stops refreshing (the app is closing); a refresh in flight stores nothing. */
  close (): void
}

/** A row as read from its source, with the cache tags whose invalidation must drop it. */
export interface FetchedRow<V> {
  value: V
  tags: string[]
}

/** Where one kind of row comes from: one statement for a batch of ids. */
export interface RowSource<V = unknown> {
  /** The kind, as the cache keys begin: `Note`, `NoteCount:all`. */
  readonly name: string
  keyOf (id: string): string
  /** The rows of `ids`; an id without a row (it was deleted) is absent from the answer. */
  read (scope: QueryScope, ids: readonly string[]): Promise<Map<string, FetchedRow<V>>>
}

export interface RowOrigin {
  // Any kind of row: the cache holds them all as unknown.
  source: RowSource<any>
  id: string
}

export interface RowCacheOptions {
  maxBytes: number
  ttlMs: number
  bus: InvalidationBus
  tracker: RaceTracker
  registry?: Registry
  /** How long a refresh may take (its statement's budget): DB_TIMEOUT_MS. */
  refreshBudgetMs?: number
  /** Ids per refresh statement (at most LOADER_MAX_BATCH_SIZE). */
  refreshMaxBatch?: number
  /** Where a failed refresh is reported (debug: the rows then expire and are read as before). */
  log?: FastifyBaseLogger
  /** How long refreshes gather before they are read (default: REFRESH_DELAY_MS, a sixteenth of a short TTL). */
  refreshDelayMs?: number
  /** The clock of lifetimes (performance.now; tests move their own). */
  now?: () => number
  /** Where each lifetime falls in 50–100 % of the TTL (Math.random; tests fix it). */
  random?: () => number
}

interface Entry {
  readonly value: unknown
  readonly tags: readonly string[]
  readonly origin: RowOrigin | undefined
  /** performance.now() after which a read queues a refresh; Infinity once queued (or no origin). */
  refreshAtMs: number
}

/**
 * How long refreshes gather before they are read: one statement per kind per this many ms. A
 * row is queued with at most half its lifetime left (a quarter of the TTL), so a short TTL
 * shortens the delay (to a sixteenth of it).
 */
export const REFRESH_DELAY_MS = 1000
/** Ids per refresh statement by default: a note row carries its body (up to 100 KB). */
export const REFRESH_MAX_BATCH = 100
/** Part of its lifetime after which a row that is read is refreshed. */
const REFRESH_AFTER = 0.5

/**
 * What an entry keeps on the heap beyond its key, value and tags: the Entry and its origin,
 * the tags array, lru-cache's slots for it. Measured, so that ROW_CACHE_MAX_BYTES bounds the
 * heap an operator budgets for (test/cache/byte-accounting.test.ts; docs/performance.md,
 * "Cache entries counted with their heap cost").
 */
export const ENTRY_OVERHEAD_BYTES = 500

export function createRowCache ({ maxBytes, ttlMs, bus, tracker, registry, refreshBudgetMs = 20_000, refreshMaxBatch = REFRESH_MAX_BATCH, log, refreshDelayMs = Math.min(REFRESH_DELAY_MS, ttlMs / 16), now = () => performance.now(), random = Math.random }: RowCacheOptions): RowCache {
  if (maxBytes <= 0 || ttlMs <= 0) return disabledRowCache
  // Plain numbers on the lookup path (every authenticated request makes one); Prometheus reads them.
  const counts = { hits: 0, misses: 0, bypasses: 0, refreshed: 0, refreshFailures: 0, invalidated: 0 }
  const metrics = createRowCacheMetrics(registry, counts, () => entries.calculatedSize)
  const tagIndex = createTagIndex()
  const getOptions = reusableGetOptions<string, Entry>()
  const entries: LRUCache<string, Entry> = new LRUCache<string, Entry>({
    maxSize: maxBytes,
    ttl: ttlMs,
    perf: { now },
    // Expired rows are dropped when touched or pushed out by the byte bound; never served.
    ttlAutopurge: false,
    sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + key.length + approximateBytes(entry.value) + tagBytes(entry.tags),
    dispose: (entry, key, reason) => {
      if (reason === 'evict') metrics.evictions.inc()
      // Also when replaced ('set'): a refreshed author list may carry other notes' tags.
      tagIndex.remove(key, entry.tags)
    }
  })

  function store (key: string, value: unknown, tags: readonly string[], ticket: Ticket, origin: RowOrigin | undefined): void {
    if (!bus.listening || !tracker.accepts(tags, ticket)) return
    const kept = tagIndex.intern(tags)
    const lifetimeMs = spreadTtl(ttlMs, random())
    const refreshAtMs = origin === undefined ? Number.POSITIVE_INFINITY : now() + lifetimeMs * REFRESH_AFTER
    entries.set(key, { value, tags: kept, origin, refreshAtMs }, { ttl: lifetimeMs })
    // Larger than the whole bound: lru-cache refused it.
    if (entries.has(key)) tagIndex.add(key, kept)
  }

  // The refresh queue: ids by source, read together every REFRESH_DELAY_MS.
  let pending = new Map<RowSource, Set<string>>()
  let refreshTimer: NodeJS.Timeout | undefined
  let refreshing = false
  let closed = false

  function queueRefresh (entry: Entry): void {
    entry.refreshAtMs = Number.POSITIVE_INFINITY
    const { source, id } = entry.origin!
    let ids = pending.get(source)
    if (ids === undefined) pending.set(source, ids = new Set())
    ids.add(id)
    if (refreshTimer === undefined && !refreshing) refreshTimer = setTimeout(refreshPending, refreshDelayMs).unref()
  }

  async function refreshPending (): Promise<void> {
    refreshTimer = undefined
    const batches = pending
    pending = new Map()
    // Not listening: nothing read now could be stored; the rows expire as they would have.
    if (closed || !bus.listening) return
    refreshing = true
    // One statement at a time, in small batches: the rows of each are parsed and stored in one
    // go on the event loop, between requests.
    for (const [source, ids] of batches) {
      const all = [...ids]
      for (let start = 0; start < all.length; start += refreshMaxBatch) {
        if (closed) return
        await refresh(source, all.slice(start, start + refreshMaxBatch))
      }
    }
    refreshing = false
    if (pending.size > 0 && !closed) refreshTimer = setTimeout(refreshPending, refreshDelayMs).unref()
  }

  async function refresh (source: RowSource, ids: string[]): Promise<void> {
    const ticket = tracker.ticket()
    const deadline = createDeadline(refreshBudgetMs, undefined, { layer: 'row-refresh' })
    try {
      const rows = await source.read({ sqlCounter: { statements: 0 }, deadline }, ids)
      if (closed) return
      for (const id of ids) {
        const row = rows.get(id)
        if (row === undefined) entries.delete(source.keyOf(id))
        else store(source.keyOf(id), row.value, row.tags, ticket, { source, id })
      }
      counts.refreshed += ids.length
    } catch (error) {
      // The rows keep their lifetime and are read on the request path once it is over.
      counts.refreshFailures++
      log?.debug({ err: error, rows: source.name, count: ids.length }, 'row cache: refresh failed')
    } finally {
      deadline.dispose()
    }
  }

  bus.subscribe({
    invalidate (tags) {
      for (const tag of tags) {
        for (const key of tagIndex.keysOf(tag)) if (entries.delete(key)) counts.invalidated++
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
      if (entry === undefined) {
        counts.misses++
        return undefined
      }
      counts.hits++
      if (entry.refreshAtMs <= now()) queueRefresh(entry)
      return entry.value as T
    },

    set: store,

    get size () { return entries.size },
    get bytes () { return entries.calculatedSize },

    close () {
      closed = true
      clearTimeout(refreshTimer)
      refreshTimer = undefined
      pending.clear()
    }
  }
}

/** With the row cache off every lookup misses and nothing is kept: loaders read SQL every time. */
export const disabledRowCache: RowCache = Object.freeze({
  enabled: false,
  ticket: () => ({ seq: 0, wallMs: 0 }),
  get: () => undefined,
  set: () => {},
  size: 0,
  bytes: 0,
  close: () => {}
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

function createRowCacheMetrics (registry: Registry | undefined, counts: { hits: number, misses: number, bypasses: number, refreshed: number, refreshFailures: number, invalidated: number }, bytesHeld: () => number) {
  const registers = registry === undefined ? [] : [registry]
  const counter = (name: string, help: string, read: () => number): Counter => new Counter({
    name, help, registers, collect () { this.reset(); this.inc(read()) }
  })
  return {
    hits: counter('jotter_row_cache_hits_total', 'Row lookups answered by the row cache.', () => counts.hits),
    misses: counter('jotter_row_cache_misses_total', 'Row lookups the row cache could not answer (read from PostgreSQL).', () => counts.misses),
    bypasses: counter('jotter_row_cache_bypasses_total', 'Row lookups not tried because the invalidation bus was not listening.', () => counts.bypasses),
    refreshed: counter('jotter_row_cache_refreshed_total', 'Rows read again ahead of expiry because they were still being read.', () => counts.refreshed),
    refreshFailures: counter('jotter_row_cache_refresh_failures_total', 'Refresh statements that failed (those rows expire and are read on the request path).', () => counts.refreshFailures),
    invalidated: counter('jotter_row_cache_invalidated_total', 'Rows dropped by tag invalidations (a whole clear is not counted).', () => counts.invalidated),
    evictions: new Counter({ name: 'jotter_row_cache_evictions_total', help: 'Rows pushed out by ROW_CACHE_MAX_BYTES.', registers }),
    bytes: new Gauge({ name: 'jotter_row_cache_bytes', help: 'Bytes held by the row cache (approximate).', registers, collect () { this.set(bytesHeld()) } })
  }
}
