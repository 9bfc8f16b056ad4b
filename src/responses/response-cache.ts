/**
 * createResponseCache: the two tiers behind one object, and the rules that make them safe.
 *
 *  - Lookup: the memory tier first; on a miss the Redis tier (when configured and healthy),
 *    whose entry is served only if the race tracker says it is current here (nothing it holds
 *    was invalidated since its stamp), and is then copied into the memory tier.
 *  - Store: only if no tag of the response was invalidated since the lookup's ticket; memory
 *    first, then Redis. Redis failures never fail a request.
 *  - Invalidation: from the bus only (this cache is one of its subscribers). While the bus is
 *    not listening the cache neither serves nor stores.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config.ts'
import { createCacheMetrics, type CacheMetrics } from './cache-metrics.ts'
import type { InvalidationBus } from '../changes/invalidation-bus.ts'
import type { ClearReason } from '../changes/invalidation-listener.ts'
import { createMemoryStore } from './memory-store.ts'
import type { RaceTracker, Ticket } from '../changes/race-tracker.ts'
import { createRedisStore, type RedisStore } from './redis-store.ts'
import type { MaybePromise, StoredResponse } from './response-store.ts'

export type InvalidationHook = (tags: readonly string[] | 'all') => void

export interface CacheLookup {
  readonly response: StoredResponse | undefined
  /** Undefined when the cache is bypassed (bus not listening): nothing may be stored. */
  readonly ticket: Ticket | undefined
}

export interface ResponseCache {
  readonly metrics: CacheMetrics
  /** Synchronous on a memory hit: the hit path does not even wait a tick. */
  lookup (key: string): MaybePromise<CacheLookup>
  /** A ticket taken now, for a miss whose lookup carried none (a memory hit on a marker no viewer may take). */
  ticket (): Ticket
  /** With `vary`, a marker (response-store.ts): the questions the answers under `key` asked. */
  store (key: string, body: string, etag: string, tags: readonly string[], ttlMs: number, ticket: Ticket, vary?: readonly string[]): Promise<'stored' | 'refused'>
  /** Called after any invalidation reached this cache: its tags, or 'all'. */
  onInvalidation (hook: InvalidationHook): void
  readonly redisDegraded: boolean
  close (): Promise<void>
}

export interface ResponseCacheOptions {
  config: Pick<Config, 'cacheMaxBytes' | 'redisUrl' | 'redisCommandTimeoutMs'>
  /** Redis keys' namespace: DEPLOYMENT_ID, or the database's identity once it answers. */
  deploymentId: string | Promise<string>
  registry: Registry
  log: FastifyBaseLogger
  bus: InvalidationBus
  tracker: RaceTracker
}

const bypassed: CacheLookup = Object.freeze({ response: undefined, ticket: undefined })

export async function createResponseCache ({ config, deploymentId, registry, log, bus, tracker }: ResponseCacheOptions): Promise<ResponseCache> {
  const hooks: InvalidationHook[] = []
  // Evictions happen on later stores, after `metrics` exists.
  const memory = createMemoryStore({ maxBytes: config.cacheMaxBytes, onEvict: () => metrics.evictions.inc() })
  const metrics: CacheMetrics = createCacheMetrics(registry, () => memory.bytes, () => memory.size)
  const counters = metrics

  let redis: RedisStore | undefined
  if (config.redisUrl !== undefined) {
    redis = await createRedisStore({
      url: config.redisUrl,
      commandTimeoutMs: config.redisCommandTimeoutMs,
      namespace: deploymentId,
      log,
      onError: () => counters.redisErrors.inc(),
      onDegradedChange: (degraded) => counters.redisDegraded.set(degraded ? 1 : 0)
    })
  }
  const usableRedis = (): RedisStore | undefined => redis !== undefined && !redis.degraded ? redis : undefined
  // One frozen lookup result per stored response, made at its first hit: later hits allocate nothing.
  const memoryHits = new WeakMap<StoredResponse, CacheLookup>()
  const memoryHitOf = (response: StoredResponse): CacheLookup => {
    let hit = memoryHits.get(response)
    if (hit === undefined) memoryHits.set(response, hit = Object.freeze({ response, ticket: undefined }))
    return hit
  }

  bus.subscribe({
    invalidate (tags) {
      counters.invalidatedEntries.inc(memory.invalidate(tags))
      counters.invalidations.inc({ kind: 'tags' })
      for (const hook of hooks) hook(tags)
    },
    clear (reason: ClearReason) {
      memory.clear()
      counters.invalidations.inc({ kind: reason === 'bus-lost' ? 'reset' : 'all' })
      // The shared tier is only cleared for a change: a process that lost its bus already
      // refuses every shared entry stamped before it listens again (its tracker was cleared),
      // and clearing would cost every other process its entries too.
      if (reason === 'changed') usableRedis()?.clear().catch(() => {})
      for (const hook of hooks) hook('all')
    }
  })

  return {
    metrics,

    lookup (key) {
      if (!bus.listening) return bypassed
      const local = memory.responseOf(key)
      if (local !== undefined) return memoryHitOf(local)
      const ticket = tracker.ticket()
      const shared = usableRedis()
      if (shared === undefined) return { response: undefined, ticket }
      return shared.lookup(key).then(
        (found) => {
          if (found === undefined || !tracker.isCurrent(found.response.tags, found.response.stampMs)) return { response: undefined, ticket }
          // Copied only if no invalidation of its tags reached us since our own ticket.
          if (bus.listening && tracker.accepts(found.response.tags, ticket)) memory.store(key, found.response, found.remainingTtlMs)
          return { response: found.response, ticket }
        },
        () => ({ response: undefined, ticket }))
    },

    ticket: () => tracker.ticket(),

    async store (key, body, etag, tags, ttlMs, ticket, vary) {
      if (!bus.listening || !tracker.accepts(tags, ticket)) return 'refused'
      const response: StoredResponse = vary === undefined ? { body, etag, tags, stampMs: ticket.wallMs } : { body, etag, tags, stampMs: ticket.wallMs, vary }
      if (!memory.store(key, response, ttlMs)) return 'refused'
      try {
        await usableRedis()?.store(key, response, ttlMs)
      } catch {
        // Degraded now: the memory tier alone keeps it.
      }
      return 'stored'
    },

    onInvalidation (hook) { hooks.push(hook) },
    get redisDegraded () { return redis?.degraded ?? false },
    async close () {
      memory.close()
      await redis?.close()
    }
  }
}
