/**
 * createResponseCache: the two tiers behind one object. The memory tier answers first; on a
 * miss the Redis tier (when configured and healthy) is asked, and its hit is copied into the
 * memory tier. A store goes to Redis first, then memory, and only when neither tier saw an
 * invalidation of the response's tags since the lookup. Redis failures never fail a request:
 * the Redis store marks itself degraded and the memory tier serves alone.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config.ts'
import { createCacheMetrics, type CacheMetrics } from './cache-metrics.ts'
import { joinClusterInvalidation } from './cluster-invalidation.ts'
import { createMemoryStore } from './memory-store.ts'
import { createRedisStore, type RedisStore } from './redis-store.ts'
import type { MaybePromise, StoredResponse } from './response-store.ts'

export type InvalidationListener = (tags: readonly string[] | 'all') => void

export interface Tickets { readonly memory: unknown, readonly redis?: unknown }
export interface CacheLookup { readonly response: StoredResponse | undefined, readonly tickets: Tickets }

export interface ResponseCache {
  readonly metrics: CacheMetrics
  /** Synchronous on a memory hit: the hit path does not even wait a tick. */
  lookup (key: string): MaybePromise<CacheLookup>
  store (key: string, response: StoredResponse, ttlMs: number, tickets: Tickets): Promise<'stored' | 'refused'>
  invalidate (tags: readonly string[]): Promise<void>
  clear (): Promise<void>
  /** Called after any invalidation reached this process (local, remote or reset): its tags, or 'all'. */
  onInvalidation (listener: InvalidationListener): void
  readonly redisDegraded: boolean
  close (): Promise<void>
}

export interface ResponseCacheOptions {
  config: Pick<Config, 'cacheMaxBytes' | 'redisUrl' | 'redisCommandTimeoutMs' | 'httpTimeoutMs'>
  registry: Registry
  log: FastifyBaseLogger
  /** Redis namespace: the database name, so that separate data sets never share entries. */
  namespace: string
}

export async function createResponseCache ({ config, registry, log, namespace }: ResponseCacheOptions): Promise<ResponseCache> {
  const listeners: InvalidationListener[] = []
  const notify = (tags: readonly string[] | 'all'): void => { for (const listener of listeners) listener(tags) }
  let metrics: CacheMetrics | undefined
  const memory = createMemoryStore({ maxBytes: config.cacheMaxBytes, onEvict: () => metrics?.evictions.inc() })
  metrics = createCacheMetrics(registry, () => memory.bytes)
  const counters = metrics

  let redis: RedisStore | undefined
  if (config.redisUrl !== undefined) {
    redis = await createRedisStore({
      url: config.redisUrl,
      commandTimeoutMs: config.redisCommandTimeoutMs,
      namespace,
      // Twice the longest a request may run: a racing store always finds the position.
      positionTtlMs: Math.max(2 * config.httpTimeoutMs, 60_000),
      log,
      onRemoteInvalidate: (tags) => { memory.invalidate(tags); counters.invalidations.inc({ kind: 'remote' }); notify(tags) },
      onReset: () => { memory.clear(); counters.invalidations.inc({ kind: 'reset' }); notify('all') },
      onError: () => counters.redisErrors.inc(),
      onDegradedChange: (degraded) => counters.redisDegraded.set(degraded ? 1 : 0)
    })
  }
  const usableRedis = (): RedisStore | undefined => redis !== undefined && !redis.degraded ? redis : undefined
  // WORKERS=N without Redis: the cluster's primary relays invalidations between the workers.
  const siblings = redis === undefined
    ? joinClusterInvalidation((tags) => {
      if (tags === 'all') memory.clear()
      else memory.invalidate(tags)
      counters.invalidations.inc({ kind: 'remote' })
      notify(tags)
    })
    : undefined

  return {
    metrics,

    lookup (key) {
      const local = memory.lookup(key)
      const shared = local.response === undefined ? usableRedis() : undefined
      if (shared === undefined) return { response: local.response, tickets: { memory: local.ticket } }
      return shared.lookup(key).then(
        (found) => {
          // Copied only if no invalidation of its tags reached us since our own lookup.
          if (found.response !== undefined) memory.store(key, found.response, found.remainingTtlMs, local.ticket)
          return { response: found.response, tickets: { memory: local.ticket, redis: found.ticket } }
        },
        () => ({ response: undefined, tickets: { memory: local.ticket } }))
    },

    async store (key, response, ttlMs, tickets) {
      if (!memory.accepts(response.tags, tickets.memory)) return 'refused'
      const shared = usableRedis()
      if (shared !== undefined && tickets.redis !== undefined) {
        try {
          if (await shared.store(key, response, ttlMs, tickets.redis) === 'refused') return 'refused'
        } catch {
          // Degraded now: the memory tier alone keeps it; recovery resets every tier.
        }
      }
      return memory.store(key, response, ttlMs, tickets.memory) ? 'stored' : 'refused'
    },

    async invalidate (tags) {
      memory.invalidate(tags)
      try {
        await usableRedis()?.invalidate(tags)
      } catch {
        // Lost for the other processes; the reset on recovery makes up for it.
      }
      await siblings?.publish(tags)
      notify(tags)
    },

    async clear () {
      memory.clear()
      try {
        await usableRedis()?.clear()
      } catch {
        // As above: recovery resets.
      }
      await siblings?.publish('all')
      notify('all')
    },

    onInvalidation (listener) { listeners.push(listener) },
    get redisDegraded () { return redis?.degraded ?? false },
    async close () {
      memory.close()
      siblings?.close()
      await redis?.close()
    }
  }
}
