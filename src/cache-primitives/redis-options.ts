/**
 * How every Redis client of Jotter connects (the response cache's tier, the throttle counters,
 * the persisted-query store): Redis is a cache here, never a dependency a request may wait on.
 * Commands time out after `commandTimeoutMs`, are never queued while the connection is down and
 * never retried (the caller falls back to memory), and the connection is retried in the
 * background at most once a second.
 */
import type { RedisOptions } from 'ioredis'

export function failFastRedisOptions (commandTimeoutMs: number): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(commandTimeoutMs * 10, 1000),
    retryStrategy: (times) => Math.min(times * 100, 1000)
  }
}
