/**
 * The response cache's Prometheus metrics, registered on the registry the app hands in. The
 * per-request ones (hits, misses, skips, stores) are scrape-time counters: no garbage per request.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { createScrapeTimeCounter, type ScrapeTimeCounter } from '../observability/scrape-time-counter.ts'

export type SkipReason = 'mutation' | 'no-cache' | 'errors' | 'ttl' | 'race' | 'batch' | 'unparsable' | 'status' | 'too-large' | 'bus' | 'persisting'

export interface CacheMetrics {
  /** By operation label. */
  hits: ScrapeTimeCounter
  /** By operation label. */
  misses: ScrapeTimeCounter
  stores: ScrapeTimeCounter
  /** By SkipReason. */
  skips: ScrapeTimeCounter
  /** Misses that waited for the same key's computation in flight. */
  inflightWaits: ScrapeTimeCounter
  invalidations: Counter<'kind'>
  /** Memory-tier entries dropped by tag invalidations (not by clears). */
  invalidatedEntries: Counter
  evictions: Counter
  redisErrors: Counter
  redisDegraded: Gauge
  bytes: Gauge
  entries: Gauge
}

export function createCacheMetrics (registry: Registry, bytesHeld: () => number, entriesHeld: () => number): CacheMetrics {
  const registers = [registry]
  return {
    hits: createScrapeTimeCounter({ name: 'jotter_cache_hits_total', help: 'Responses answered from the response cache.', labelName: 'operation', registers }),
    misses: createScrapeTimeCounter({ name: 'jotter_cache_misses_total', help: 'Cacheable queries not found in the response cache.', labelName: 'operation', registers }),
    stores: createScrapeTimeCounter({ name: 'jotter_cache_stores_total', help: 'Responses written to the response cache.', registers }),
    inflightWaits: createScrapeTimeCounter({ name: 'jotter_cache_inflight_waits_total', help: 'Misses that waited for the same answer being computed by another request of this process, then looked again.', registers }),
    skips: createScrapeTimeCounter({ name: 'jotter_cache_skips_total', help: 'Responses neither looked up nor stored, by reason (bus: the invalidation bus is not listening).', labelName: 'reason', registers }),
    invalidations: new Counter({ name: 'jotter_cache_invalidations_total', help: 'Invalidations from the bus, from this process or any other: tags, all (an unknown mutation or a statement too large to list), reset (the bus was lost or is listening again).', labelNames: ['kind'], registers }),
    invalidatedEntries: new Counter({ name: 'jotter_cache_invalidated_entries_total', help: 'Memory-tier entries dropped by tag invalidations (a whole clear is counted by jotter_cache_invalidations_total only).', registers }),
    evictions: new Counter({ name: 'jotter_cache_evictions_total', help: 'Memory-tier entries pushed out by CACHE_MAX_BYTES.', registers }),
    redisErrors: new Counter({ name: 'jotter_cache_redis_errors_total', help: 'Failed or timed-out Redis operations of the response cache.', registers }),
    redisDegraded: new Gauge({ name: 'jotter_cache_redis_degraded', help: '1 while the Redis tier is unavailable and the memory tier serves alone.', registers }),
    bytes: new Gauge({ name: 'jotter_cache_bytes', help: 'Bytes held by the memory tier.', registers, collect () { this.set(bytesHeld()) } }),
    entries: new Gauge({ name: 'jotter_cache_entries', help: 'Entries held by the memory tier: answers and the markers of answers that vary by viewer.', registers, collect () { this.set(entriesHeld()) } })
  }
}
