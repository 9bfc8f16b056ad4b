/**
 * Where automatic persisted queries keep their documents: an LRU in this process bounded in
 * bytes (PERSISTED_QUERIES_MAX_BYTES), and, with REDIS_URL, Redis shared by every process of
 * the deployment, read on a local miss. A document is only ever saved once Mercurius has
 * parsed, validated (query limits included) and run it, so neither tier holds one that this
 * deployment refuses.
 *
 * Keys in Redis: `jotter:pq:v1:<DEPLOYMENT_ID>:<sha256>`, beside the response cache's
 * `jotter:rc:…:<DEPLOYMENT_ID>:…`, each with Redis's own expiry (REDIS_TTL_SECONDS): a document
 * no process saved for that long leaves, and its clients send it again on
 * PERSISTED_QUERY_NOT_FOUND. What comes back from Redis is hashed again before it is used: a
 * value that does not match its key is ignored, never run under another document's hash.
 *
 * Failure model, as the rate limits' counters: a failed or slow command (REDIS_COMMAND_TIMEOUT_MS,
 * no offline queue) is a miss, or a save to this process only; one warning per outage.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { reusableGetOptions } from '../cache-primitives/lru-get-options.ts'
import { sha256Hex } from './trusted-documents.ts'
import { failFastRedisOptions, whenReady } from '../cache-primitives/redis-options.ts'

export interface PersistedQueryStore {
  /** The document stored in this process under the hash: no waiting. */
  local (hash: string): string | undefined
  /** The document from Redis (copied into this process), or undefined; never throws. */
  shared (hash: string): Promise<string | undefined>
  /** Stores a document that has run; never throws. */
  save (hash: string, text: string): Promise<void>
  close (): Promise<void>
}

export interface PersistedQueryStoreOptions {
  maxBytes: number
  /** `namespace`: DEPLOYMENT_ID, or the database's identity once it answers (commands wait for it). */
  redis?: { url: string, commandTimeoutMs: number, namespace: string | Promise<string> }
  log: FastifyBaseLogger
}

/** Per entry on top of its text: the 64-character key and the LRU's own bookkeeping. */
export const ENTRY_OVERHEAD_BYTES = 128
export const REDIS_TTL_SECONDS = 7 * 24 * 3600

export async function createPersistedQueryStore ({ maxBytes, redis, log }: PersistedQueryStoreOptions): Promise<PersistedQueryStore> {
  const documents = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: (text) => text.length + ENTRY_OVERHEAD_BYTES })
  const getOptions = reusableGetOptions<string, string>()
  const shared = redis === undefined ? undefined : await createSharedDocuments(redis, log)
  return {
    local: (hash) => documents.get(hash, getOptions),
    async shared (hash) {
      if (shared === undefined) return undefined
      const text = await shared.read(hash)
      if (text === undefined) return undefined
      if (sha256Hex(text) !== hash) {
        log.warn({ hash }, 'persisted queries: the document in Redis does not hash to its key; ignored')
        return undefined
      }
      documents.set(hash, text)
      return text
    },
    async save (hash, text) {
      documents.set(hash, text)
      await shared?.write(hash, text)
    },
    async close () {
      shared?.close()
    }
  }
}

// Private:

async function createSharedDocuments ({ url, commandTimeoutMs, namespace }: NonNullable<PersistedQueryStoreOptions['redis']>, log: FastifyBaseLogger) {
  const prefixed = Promise.resolve(namespace).then((name) => `jotter:pq:v1:${name}:`)
  prefixed.catch(() => {})
  const client = new Redis(url, failFastRedisOptions(commandTimeoutMs))
  client.on('error', (error) => log.debug({ err: error }, 'persisted queries: redis connection error'))
  let warned = false
  client.on('ready', () => { warned = false })
  const failed = (error: unknown): undefined => {
    // One warning per outage: every request naming an unknown hash would otherwise log.
    if (!warned) log.warn({ err: error }, 'persisted queries: redis unavailable, using this process\'s documents only')
    warned = true
    return undefined
  }
  // Not ready in time: this process's documents serve until Redis is (the first command warns).
  await whenReady(client, commandTimeoutMs * 20).catch(() => {})
  return {
    read: (hash: string): Promise<string | undefined> => prefixed.then((prefix) => client.get(prefix + hash)).then((text) => text ?? undefined, failed),
    write: (hash: string, text: string): Promise<void> => prefixed.then((prefix) => client.set(prefix + hash, text, 'EX', REDIS_TTL_SECONDS)).then(() => undefined, failed),
    close: () => client.disconnect()
  }
}
