/**
 * The invalidation bus and the race tracker of one process, wired in the order that matters:
 * the tracker hears of every invalidation before any cache does, so no cache can store, in
 * the gap, something computed before it.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config.ts'
import { createBusMetrics } from './bus-metrics.ts'
import { createInvalidationBus, type InvalidationBus } from './invalidation-bus.ts'
import { createRaceTracker, type RaceTracker } from './race-tracker.ts'

export interface CacheCoherence {
  readonly bus: InvalidationBus
  readonly tracker: RaceTracker
}

type CoherenceConfig = Pick<Config, 'cacheTtlMs' | 'cacheTtlByType' | 'rowCacheTtlMs' | 'httpTimeoutMs' | 'cacheClockSkewMs' | 'cacheBusHeartbeatMs'>

export function createCacheCoherence (config: CoherenceConfig, { listenUrl, log, registry }: { listenUrl: string, log: FastifyBaseLogger, registry: Registry }): CacheCoherence {
  const bus = createInvalidationBus({ url: listenUrl, log, heartbeatMs: config.cacheBusHeartbeatMs, observer: createBusMetrics(registry) })
  const tracker = createRaceTracker({ clockSkewMs: config.cacheClockSkewMs, retentionMs: longestEntryLifeMs(config) })
  bus.subscribe(tracker)
  return { bus, tracker }
}

// Private:

/**
 * The longest anything can stay cached after its ticket: its TTL, plus the request that read it
 * (it stores at the end), plus the clock skew: a record older than that refuses nothing.
 */
function longestEntryLifeMs (config: CoherenceConfig): number {
  const longestTtl = Math.max(config.cacheTtlMs, config.rowCacheTtlMs, ...Object.values(config.cacheTtlByType))
  return longestTtl + config.httpTimeoutMs + config.cacheClockSkewMs
}
