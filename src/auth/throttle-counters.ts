/**
 * Fixed-window counters for the rate limits: in memory, or in Redis (REDIS_URL) so that every
 * instance counts the same attempts. The counting is @fastify/rate-limit's (INCR, and PEXPIRE
 * on the first hit); what we add is `reset`, which a successful sign-in needs and the plugin's
 * own stores do not offer.
 *
 * Failure model: a Redis command that fails or outlasts REDIS_COMMAND_TIMEOUT_MS (a closed or
 * a hung server) is answered by the memory counters instead, so a sign-in never waits on
 * Redis and the limits still hold per instance while it is away.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { failFastRedisOptions } from '../cache-primitives/redis-options.ts'

export interface Count {
  current: number
  /** Milliseconds until the window ends (0: no window open). */
  ttlMs: number
}

export interface ThrottleCounters {
  /** Counts one hit; the window starts with the first. */
  increment (key: string, windowMs: number): Promise<Count>
  read (key: string): Promise<Count>
  reset (key: string): Promise<void>
  close (): Promise<void>
}

/** Keys kept in memory; the least recently used go first (a forgotten counter restarts at 0). */
const MEMORY_MAX_KEYS = 100_000

export function createMemoryCounters (): ThrottleCounters {
  const windows = new LRUCache<string, { current: number, endsAtMs: number }>({ max: MEMORY_MAX_KEYS })
  const live = (key: string) => {
    const entry = windows.get(key)
    if (entry === undefined || entry.endsAtMs <= Date.now()) return undefined
    return entry
  }
  return {
    async increment (key, windowMs) {
      const entry = live(key) ?? { current: 0, endsAtMs: Date.now() + windowMs }
      entry.current++
      windows.set(key, entry)
      return { current: entry.current, ttlMs: entry.endsAtMs - Date.now() }
    },
    async read (key) {
      const entry = live(key)
      return entry === undefined ? { current: 0, ttlMs: 0 } : { current: entry.current, ttlMs: entry.endsAtMs - Date.now() }
    },
    async reset (key) {
      windows.delete(key)
    },
    async close () {}
  }
}

export interface RedisCountersOptions {
  url: string
  commandTimeoutMs: number
  log: FastifyBaseLogger
}

export function createRedisCounters ({ url, commandTimeoutMs, log }: RedisCountersOptions): ThrottleCounters {
  const prefix = 'jotter:throttle:'
  const fallback = createMemoryCounters()
  const client = new Redis(url, failFastRedisOptions(commandTimeoutMs)) as Redis & {
    jotterThrottle (key: string, windowMs: number): Promise<[number, number]>
    jotterThrottleRead (key: string): Promise<[number, number]>
  }
  client.defineCommand('jotterThrottle', { numberOfKeys: 1, lua: INCREMENT_SCRIPT })
  client.defineCommand('jotterThrottleRead', { numberOfKeys: 1, lua: READ_SCRIPT })
  client.on('error', (error) => log.debug({ err: error }, 'rate limits: redis connection error'))
  let warned = false

  // One warning per outage: a hung Redis would otherwise log on every sign-in.
  async function orFallback<T> (work: () => Promise<T>, fallbackWork: () => Promise<T>): Promise<T> {
    try {
      const result = await work()
      warned = false
      return result
    } catch (error) {
      if (!warned) log.warn({ err: error }, 'rate limits: redis unavailable, counting in this process only')
      warned = true
      return fallbackWork()
    }
  }

  return {
    increment: (key, windowMs) => orFallback(async () => {
      const [current, ttlMs] = await client.jotterThrottle(prefix + key, windowMs)
      return { current, ttlMs }
    }, () => fallback.increment(key, windowMs)),
    read: (key) => orFallback(async () => {
      const [current, ttlMs] = await client.jotterThrottleRead(prefix + key)
      return { current, ttlMs }
    }, () => fallback.read(key)),
    reset: (key) => orFallback(async () => {
      await client.del(prefix + key)
      await fallback.reset(key)
    }, () => fallback.reset(key)),
    async close () {
      client.disconnect()
    }
  }
}

// Private:

// @fastify/rate-limit's script without its backoff options: the window starts at the first hit.
const INCREMENT_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`

const READ_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(current), ttl}
`
