/**
 * The Redis tier (ioredis): responses shared by every process of one deployment. It only keeps
 * bytes: no invalidation travels through Redis. Each entry carries its stamp (when its data
 * started to be read), and the reading process checks it against its own race tracker, which
 * the PostgreSQL bus keeps up to date; so a Redis that missed everything while unreachable
 * (or was never told: a change made with psql) still never serves an entry older than an
 * invalidation the reader has heard of.
 *
 * Keys: `jotter:rc:v2:<DEPLOYMENT_ID>:gen` (a generation; `clear` moves it on, making every
 * entry unreadable) and `...:<gen>:<key>` (an entry, with Redis's own expiry = its TTL).
 *
 * Failure model: any failed or slow command (REDIS_COMMAND_TIMEOUT_MS, no offline queue)
 * marks the tier degraded; the cache then runs on the memory tier alone and requests never
 * wait on Redis. A probe retries every `probeIntervalMs`. Nothing needs resetting on recovery.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import type { Found, ResponseStore, StoredResponse } from './response-store.ts'
import { failFastRedisOptions, whenReady } from '../cache-primitives/redis-options.ts'

export interface RedisStore extends ResponseStore {
  /** True while Redis is unreachable or too slow; callers use the memory tier alone. */
  readonly degraded: boolean
  /** Throws when Redis fails (the tier is then degraded). */
  lookup (key: string): Promise<Found | undefined>
  /** Throws when Redis fails. */
  store (key: string, response: StoredResponse, ttlMs: number): Promise<boolean>
  clear (): Promise<void>
  close (): Promise<void>
}

export interface RedisStoreOptions {
  url: string
  commandTimeoutMs: number
  /**
   * DEPLOYMENT_ID: deployments sharing one Redis never share entries. A promise when it is
   * derived from the database: commands wait for it (the start-up gate holds requests until
   * the database answers, so none wait in practice) and fail with it.
   */
  namespace: string | Promise<string>
  probeIntervalMs?: number
  log: FastifyBaseLogger
  onError (): void
  onDegradedChange (degraded: boolean): void
}

/** KEYS: generation. ARGV: prefix, key → {value | '', pttl}: one round trip for both. */
const lookupScript = `
local gen = redis.call('GET', KEYS[1]) or '0'
local entryKey = ARGV[1] .. gen .. ':' .. ARGV[2]
local value = redis.call('GET', entryKey)
if not value then return {'', 0} end
return {value, redis.call('PTTL', entryKey)}
`

/** KEYS: generation. ARGV: prefix, key, value, ttl ms. */
const storeScript = `
local gen = redis.call('GET', KEYS[1]) or '0'
redis.call('SET', ARGV[1] .. gen .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
`

type ScriptClient = Redis & {
  jotterLookup (...args: string[]): Promise<[string, number]>
  jotterStore (...args: Array<string | number>): Promise<number>
}

export async function createRedisStore (options: RedisStoreOptions): Promise<RedisStore> {
  const { commandTimeoutMs, log } = options
  let prefix = ''
  let generationKey = ''
  const named = Promise.resolve(options.namespace).then((namespace) => {
    prefix = `jotter:rc:v2:${namespace}:`
    generationKey = `${prefix}gen`
  })
  named.catch(() => {})
  let degraded = false
  let closing = false
  let probeTimer: NodeJS.Timeout | undefined

  const client = new Redis(options.url, failFastRedisOptions(commandTimeoutMs)) as ScriptClient
  client.defineCommand('jotterLookup', { numberOfKeys: 1, lua: lookupScript })
  client.defineCommand('jotterStore', { numberOfKeys: 1, lua: storeScript })
  client.on('error', (error) => log.debug({ err: error }, 'response cache: redis connection error'))
  client.on('close', () => { if (!closing) fail(new Error('redis connection closed')) })

  function fail (error: unknown): void {
    options.onError()
    if (degraded || closing) return
    degraded = true
    options.onDegradedChange(true)
    log.warn({ err: error }, 'response cache: redis unavailable, using the memory tier only')
    probeTimer = setInterval(() => { probe().catch(() => {}) }, options.probeIntervalMs ?? 500)
    probeTimer.unref()
  }

  async function probe (): Promise<void> {
    if (!degraded || closing || client.status !== 'ready') return
    try {
      await client.ping()
    } catch {
      return
    }
    degraded = false
    clearInterval(probeTimer)
    options.onDegradedChange(false)
    log.info('response cache: redis reachable again')
  }

  async function guarded<T> (work: () => Promise<T>): Promise<T> {
    try {
      if (prefix === '') await named
      return await work()
    } catch (error) {
      fail(error)
      throw error
    }
  }

  try {
    await whenReady(client, commandTimeoutMs * 20)
  } catch (error) {
    fail(error)
  }

  return {
    get degraded () { return degraded },

    lookup: (key) => guarded(async () => {
      const [value, ttl] = await client.jotterLookup(generationKey, prefix, key)
      return value === '' ? undefined : { response: decode(value), remainingTtlMs: Number(ttl) }
    }),

    store: (key, response, ttlMs) => guarded(async () => {
      await client.jotterStore(generationKey, prefix, key, encode(response), ttlMs)
      return true
    }),

    clear: () => guarded(async () => {
      await client.incr(generationKey)
    }),

    async close () {
      closing = true
      clearInterval(probeTimer)
      client.disconnect()
    }
  }
}

// Private:

function encode (response: StoredResponse): string {
  return JSON.stringify({ e: response.etag, t: response.tags, s: response.stampMs, b: response.body, v: response.vary })
}

function decode (value: string): StoredResponse {
  const { e, t, s, b, v } = JSON.parse(value) as { e: string, t: string[], s: number, b: string, v?: string[] }
  return v === undefined ? { etag: e, tags: t, stampMs: s, body: b } : { etag: e, tags: t, stampMs: s, body: b, vary: v }
}
