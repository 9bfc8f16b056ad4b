/**
 * The store side of the response cache, run by its onSend hook: the bytes about to be sent are
 * stored once for every viewer their execution did not ask about (docs/caching.md, "Answers
 * shared across viewers"), given their ETag, and a matching If-None-Match is answered 304.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Viewer } from '../viewer.ts'
import type { Ticket } from '../changes/race-tracker.ts'
import type { SkipReason } from './cache-metrics.ts'
import { variantKeyOf } from './cache-key.ts'
import { etagOf, matchesEtag } from './http-caching.ts'
import type { ResponseCache } from './response-cache.ts'
import type { TtlPolicy } from './ttl-policy.ts'

/** Per-request cache state: set by the lookup, completed by onResolution, used by onSend. */
export interface PendingStore {
  /** The request's key: document, operation, variables. */
  baseKey: string
  /** The questions the marker under baseKey named at lookup, if there was one. */
  knownVary: readonly string[] | undefined
  ticket: Ticket
  /** Set by onResolution: the execution had no errors. */
  storable: boolean
  tags: string[]
  /** Ends this request's claim on its key in the single flight (once: later calls do nothing). */
  release: () => void
}

/** Stores the bytes about to be sent (when they may be) and releases the claim; resolves to the payload to send. */
export type StoreSent = (request: FastifyRequest, reply: FastifyReply, payload: unknown, pending: PendingStore) => Promise<unknown>

export interface StoreSentOptions {
  cache: ResponseCache
  ttlOf: TtlPolicy
  /** EXPOSE_SQL_COUNT: the stored copy says a hit ran no SQL. */
  exposeSqlCount: boolean
  /** Records why a response was not stored (the request log's cache status, the metric). */
  skip: (request: FastifyRequest, reason: SkipReason) => void
}

export function createStoreSent ({ cache, ttlOf, exposeSqlCount, skip }: StoreSentOptions): StoreSent {
  /**
   * Stores an answer once for every viewer its execution did not ask about: under the request's
   * key when it asked nothing (and no marker is known there), else under the key of the
   * questions — those it asked and those the marker named, so lookups through the marker find
   * it — and this viewer's answers, with the marker beside it.
   */
  async function storeShared (request: FastifyRequest, pending: PendingStore, body: string, etag: string, ttlMs: number): Promise<'stored' | 'refused'> {
    const asked = request.jotter?.viewer.asked
    if (asked === undefined) return 'refused'
    const questions = [...new Set([...(pending.knownVary ?? []), ...asked])].sort()
    if (questions.length === 0) return cache.store(pending.baseKey, body, etag, pending.tags, ttlMs, pending.ticket)
    const variant = variantKeyOf(pending.baseKey, questions, request.viewer as Viewer)
    if (variant === undefined) return 'refused'
    const marker = await cache.store(pending.baseKey, '', '', pending.tags, ttlMs, pending.ticket, questions)
    if (marker === 'refused') return 'refused'
    return cache.store(variant, body, etag, pending.tags, ttlMs, pending.ticket)
  }

  async function storeAndAnswer (request: FastifyRequest, reply: FastifyReply, payload: unknown, pending: PendingStore): Promise<unknown> {
    if (!pending.storable) {
      // Errors (or no execution at all: a request-level failure) are never stored.
      skip(request, 'errors')
      return payload
    }
    if (reply.statusCode !== 200 || typeof payload !== 'string') {
      skip(request, 'status')
      return payload
    }
    const ttlMs = ttlOf(pending.tags)
    if (ttlMs <= 0) {
      skip(request, 'ttl')
      return payload
    }
    const body = exposeSqlCount ? zeroSqlCount(payload) : payload
    const etag = etagOf(body)
    const outcome = await storeShared(request, pending, body, etag, ttlMs)
    if (outcome === 'stored') cache.metrics.stores.inc()
    else skip(request, 'race')
    reply.header('etag', etag)
    if (matchesEtag(request, etag)) {
      reply.code(304)
      return ''
    }
    return payload
  }

  return async (request, reply, payload, pending) => {
    try {
      return await storeAndAnswer(request, reply, payload, pending)
    } finally {
      pending.release()
    }
  }
}

// Private:

/** A hit runs no SQL: the stored copy says so when EXPOSE_SQL_COUNT adds the count. */
function zeroSqlCount (payload: string): string {
  return payload.replace(/"sqlStatements":\d+(?=\}\}$)/, '"sqlStatements":0')
}
