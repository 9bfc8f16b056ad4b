/**
 * The Redis tier (ioredis): shared by every process, plus the invalidation bus (pub/sub) that
 * tells every process to drop its memory-tier entries.
 *
 * Failure model (own code): any failed or slow command (REDIS_COMMAND_TIMEOUT_MS, no offline
 * queue) marks the tier degraded; the cache then runs on the memory tier alone and requests
 * never wait on Redis. A probe retries every `probeIntervalMs`; on success the tier is not
 * trusted as it is: invalidations may have been lost while it was unreachable, so a new epoch
 * makes every old entry unreadable, and a reset message makes every process clear its memory
 * tier. Namespace = one database: instances sharing PostgreSQL share entries.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { invalidateScript, lookupScript, storeScript } from './redis-scripts.ts'
import type { Lookup, StoredResponse } from './response-store.ts'

export interface RedisStore {
  /** True while Redis is unreachable or too slow; callers use the memory tier alone. */
  readonly degraded: boolean
  /** Throws when Redis fails (the tier is then degraded). */
  lookup (key: string): Promise<Lookup>
  /** 'refused' = a tag was invalidated since the ticket. Throws when Redis fails. */
  store (key: string, response: StoredResponse, ttlMs: number, ticket: unknown): Promise<'stored' | 'refused'>
  /** Drops the tags in Redis and in every process's memory tier. Throws when Redis fails. */
  invalidate (tags: readonly string[]): Promise<void>
  /** Makes every entry unreadable (new epoch) and every process clear its memory tier. */
  clear (): Promise<void>
  close (): Promise<void>
}

export interface RedisStoreOptions {
  url: string
  commandTimeoutMs: number
  /** Usually the database name: separate data sets must never share entries. */
  namespace: string
  /** How long a tag's invalidation position is kept: longer than any request can run. */
  positionTtlMs: number
  probeIntervalMs?: number
  log: FastifyBaseLogger
  /** Another process invalidated these tags (or this one: harmless). */
  onRemoteInvalidate (tags: readonly string[]): void
  /** Every memory tier must be cleared (epoch changed). */
  onReset (): void
  onError (): void
  onDegradedChange (degraded: boolean): void
}

interface Ticket { seq: number, epoch: string }
interface BusMessage { id: string, kind: 'tags' | 'reset', tags?: string[] }
type ScriptClient = Redis & {
  jotterLookup (...args: string[]): Promise<[string, string, string, number]>
  jotterStore (...args: Array<string | number>): Promise<number>
  jotterInvalidate (...args: Array<string | number>): Promise<number>
}

export async function createRedisStore (options: RedisStoreOptions): Promise<RedisStore> {
  const { commandTimeoutMs, log } = options
  const prefix = `jotter:rc:${options.namespace}:`
  const epochKey = `${prefix}epoch`
  const seqKey = `${prefix}seq`
  const channel = `${prefix}bus`
  const origin = randomBytes(6).toString('hex')
  const echoWaiters = new Map<string, () => void>()
  let messageCounter = 0
  let epoch = ''
  let degraded = false
  let closing = false
  let probeTimer: NodeJS.Timeout | undefined

  const client = new Redis(options.url, {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(commandTimeoutMs * 10, 1000),
    retryStrategy: (times) => Math.min(times * 100, 1000)
  }) as ScriptClient
  client.defineCommand('jotterLookup', { numberOfKeys: 2, lua: lookupScript })
  client.defineCommand('jotterStore', { numberOfKeys: 1, lua: storeScript })
  client.defineCommand('jotterInvalidate', { numberOfKeys: 2, lua: invalidateScript })
  // The subscriber may queue its SUBSCRIBE until connected; ioredis re-subscribes on reconnect.
  const subscriber = new Redis(options.url, { retryStrategy: (times) => Math.min(times * 100, 1000), maxRetriesPerRequest: null })
  client.on('error', (error) => log.debug({ err: error }, 'response cache: redis connection error'))
  subscriber.on('error', (error) => log.debug({ err: error }, 'response cache: redis subscriber error'))
  client.on('close', () => { if (!closing) fail(new Error('redis connection closed')) })
  // Messages missed while the subscriber was away may hold invalidations: degrade, then reset.
  subscriber.on('close', () => { if (!closing) fail(new Error('redis subscriber connection closed')) })
  subscriber.on('message', (_channel: string, text: string) => receive(text))

  function fail (error: unknown): void {
    options.onError()
    if (degraded || closing) return
    degraded = true
    options.onDegradedChange(true)
    log.warn({ err: error }, 'response cache: redis unavailable, using the memory tier only')
    probeTimer = setInterval(() => { void probe() }, options.probeIntervalMs ?? 500)
    probeTimer.unref()
  }

  async function probe (): Promise<void> {
    if (!degraded || closing || client.status !== 'ready' || subscriber.status !== 'ready') return
    try {
      await client.ping()
      await reset()
    } catch {
      return
    }
    if (!degraded) return
    degraded = false
    clearInterval(probeTimer)
    options.onDegradedChange(false)
    log.info('response cache: redis reachable again; its tier was reset (new epoch)')
  }

  /** A new epoch: entries written before are never read again; every process clears memory. */
  async function reset (): Promise<void> {
    const next = randomBytes(9).toString('base64url')
    await client.set(epochKey, next)
    epoch = next
    options.onReset()
    await client.publish(channel, JSON.stringify({ id: `${origin}:${++messageCounter}`, kind: 'reset' } satisfies BusMessage))
  }

  function receive (text: string): void {
    let message: BusMessage
    try {
      message = JSON.parse(text) as BusMessage
    } catch {
      return
    }
    if (message.kind === 'reset') options.onReset()
    else if (Array.isArray(message.tags)) options.onRemoteInvalidate(message.tags)
    echoWaiters.get(message.id)?.()
  }

  /** Resolves when our own bus message came back, so other processes have it queued too. */
  function echoOf (id: string): { promise: Promise<void>, cancel (): void } {
    let timer: NodeJS.Timeout | undefined
    const promise = new Promise<void>((resolve) => {
      echoWaiters.set(id, resolve)
      timer = setTimeout(resolve, commandTimeoutMs)
    }).finally(() => { clearTimeout(timer); echoWaiters.delete(id) })
    return { promise, cancel: () => echoWaiters.get(id)?.() }
  }

  async function guarded<T> (work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      fail(error)
      throw error
    }
  }

  try {
    await Promise.all([waitReady(client, commandTimeoutMs * 20), waitReady(subscriber, commandTimeoutMs * 20)])
    await subscriber.subscribe(channel)
    await client.set(epochKey, randomBytes(9).toString('base64url'), 'NX')
    epoch = await client.get(epochKey) ?? ''
  } catch (error) {
    fail(error)
  }

  return {
    get degraded () { return degraded },

    lookup: (key) => guarded(async () => {
      const [seq, current, value, ttl] = await client.jotterLookup(epochKey, seqKey, prefix, epoch, key)
      const ticket: Ticket = { seq: Number(seq), epoch: current }
      if (current !== epoch) {
        // Someone reset the tier (or Redis lost its data) before our subscriber told us.
        if (current === '') await reset()
        else { epoch = current; options.onReset() }
        return { response: undefined, remainingTtlMs: 0, ticket: { seq: Number(seq), epoch } }
      }
      return value === '' ? { response: undefined, remainingTtlMs: 0, ticket } : { response: decode(value), remainingTtlMs: Number(ttl), ticket }
    }),

    store: (key, response, ttlMs, ticket) => guarded(async () => {
      const { seq, epoch: ticketEpoch } = ticket as Ticket
      const stored = await client.jotterStore(epochKey, prefix, ticketEpoch, seq, key, encode(response), ttlMs, ...response.tags)
      return stored === 1 ? 'stored' : 'refused'
    }),

    invalidate: (tags) => guarded(async () => {
      if (tags.length === 0) return
      const id = `${origin}:${++messageCounter}`
      const echo = echoOf(id)
      try {
        await client.jotterInvalidate(seqKey, epochKey, prefix, options.positionTtlMs, channel,
          JSON.stringify({ id, kind: 'tags', tags: [...tags] } satisfies BusMessage), ...tags)
      } catch (error) {
        echo.cancel()
        throw error
      }
      await echo.promise
    }),

    clear: () => guarded(reset),

    async close () {
      closing = true
      clearInterval(probeTimer)
      client.disconnect()
      subscriber.disconnect()
    }
  }
}

// Private:

function encode (response: StoredResponse): string {
  return JSON.stringify({ e: response.etag, t: response.tags, b: response.body.toString('utf8') })
}

function decode (value: string): StoredResponse {
  const { e, t, b } = JSON.parse(value) as { e: string, t: string[], b: string }
  return { etag: e, tags: t, body: Buffer.from(b, 'utf8') }
}

function waitReady (redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`redis not ready after ${timeoutMs} ms`)) }, timeoutMs)
    const onReady = (): void => { cleanup(); resolve() }
    const cleanup = (): void => { clearTimeout(timer); redis.off('ready', onReady) }
    redis.on('ready', onReady)
  })
}
