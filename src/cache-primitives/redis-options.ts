/**
 * How every Redis client of Jotter connects (the response cache's tier, the throttle counters,
 * the persisted-query store): Redis is a cache here, never a dependency a request may wait on.
 * Commands time out after `commandTimeoutMs`, are never queued while the connection is down and
 * never retried (the caller falls back to memory), and the connection is retried in the
 * background, 100 ms after a loss and then less often, at least once a second.
 */
import type { Redis, RedisOptions } from 'ioredis'

export function failFastRedisOptions (commandTimeoutMs: number): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(commandTimeoutMs * 10, 1000),
    retryStrategy: (times) => Math.min(times * 100, 1000)
  }
}

/**
 * Resolves once `redis` is ready, rejects after `timeoutMs`: commands are not queued while it
 * connects, so a client waits for this before its first requests rather than miss for nothing.
 */
export function whenReady (redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`redis not ready after ${timeoutMs} ms`)) }, timeoutMs)
    const onReady = (): void => { cleanup(); resolve() }
    const cleanup = (): void => { clearTimeout(timer); redis.off('ready', onReady) }
    redis.on('ready', onReady)
  })
}
