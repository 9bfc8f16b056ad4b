/**
 * Rate limits with @fastify/rate-limit: the general per-client request limit
 * (RATE_LIMIT_MAX_REQUESTS, off by default) as the plugin's hook on every route but the health
 * probes and /metrics, and the sign-in limits (src/auth/login-throttle.ts) on the same
 * counters: Redis when REDIS_URL is set, so the limits hold across instances.
 *
 * Over a limit: 429 RATE_LIMITED with Retry-After (seconds). The client address is the
 * plugin's: the TCP peer, or X-Forwarded-For through TRUST_PROXY hops; IPv6 by /64.
 */
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createLoginThrottle, retryAfterSeconds, type LoginThrottle } from '../auth/login-throttle.ts'
import { createMemoryCounters, createRedisCounters, type ThrottleCounters } from '../auth/throttle-counters.ts'
import type { Config } from '../config.ts'
import { apiError } from '../errors.ts'

const EXEMPT_PREFIXES = ['/health/', '/metrics']

type RateLimitConfig = Pick<Config, 'redisUrl' | 'redisCommandTimeoutMs' | 'rateLimitMaxRequests' | 'rateLimitWindowMs' |
  'loginMaxFailuresPerAccount' | 'loginMaxFailuresPerClient' | 'loginThrottleWindowMs'>

/** Registers the request limit (before the routes it covers) and returns the sign-in limits. */
export async function registerRateLimits (app: FastifyInstance, config: RateLimitConfig): Promise<LoginThrottle> {
  const counters = config.redisUrl
    ? createRedisCounters({ url: config.redisUrl, commandTimeoutMs: config.redisCommandTimeoutMs, log: app.log })
    : createMemoryCounters()
  app.addHook('onClose', () => counters.close())
  if (config.rateLimitMaxRequests > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimitMaxRequests,
      timeWindow: config.rateLimitWindowMs,
      hook: 'onRequest',
      store: countersStore(counters) as never,
      allowList: (request: FastifyRequest) => EXEMPT_PREFIXES.some((prefix) => request.url.startsWith(prefix)),
      errorResponseBuilder: (_request, context) => {
        const seconds = retryAfterSeconds(context.ttl)
        return apiError('REQUESTS_THROTTLED', { seconds })
      }
    })
  }
  return createLoginThrottle(config, counters)
}

/** The client address the limits count by (the plugin's normalization: IPv6 by /64). */
export function clientAddressOf (request: FastifyRequest): string {
  // A client that already hung up has no socket address any more (request.ip is undefined).
  const address = request.ip
  return address === undefined ? 'unknown' : normalizeIP(address)
}

// Private:

/**
 * The plugin's custom-store contract (`incr`, `read`, `child`) over our counters. Every route
 * shares one count per client: `child` returns the same store.
 */
function countersStore (counters: ThrottleCounters) {
  type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void
  const answer = (work: Promise<{ current: number, ttlMs: number }>, callback: Callback) => {
    work.then(({ current, ttlMs }) => callback(null, { current, ttl: ttlMs }), (error: Error) => callback(error))
  }
  return class CountersStore {
    incr (key: string, callback: Callback, timeWindow: number) {
      answer(counters.increment(`requests:${key}`, timeWindow), callback)
    }

    read (key: string, callback: Callback) {
      answer(counters.read(`requests:${key}`), callback)
    }

    child () {
      return this
    }
  }
}
