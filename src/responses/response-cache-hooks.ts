/**
 * The response cache on the GraphQL route: a preHandler that answers hits with the stored
 * bytes (no parse, no validation, no execution, no SQL), Mercurius hooks that mark what may be
 * stored and apply a mutation's invalidations before its response leaves, and an onSend hook
 * that stores the exact bytes sent and sets ETag / Cache-Control / Vary.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { Kind, type DocumentNode } from 'graphql'
import type { Viewer } from '../viewer.ts'
import type { Config } from '../config.ts'
import type { RequestContext } from '../graphql/context.ts'
import type { SkipReason } from './cache-metrics.ts'
import { createResponseCacheKeyOf } from './cache-key.ts'
import { createDocumentInfoCache } from './document-info.ts'
import { knownMutationFields } from './known-mutations.ts'
import type { InvalidationBus } from '../changes/invalidation-bus.ts'
import type { Ticket } from '../changes/race-tracker.ts'
import type { CacheLookup, ResponseCache } from './response-cache.ts'
import type { StoredResponse } from './response-store.ts'
import { createTtlPolicy } from './ttl-policy.ts'

export type CacheStatus = 'hit' | 'miss' | 'skip' | 'bypass'

/** How long a mutation's response waits for its own notification at most (the bus is ~1 ms). */
const BUS_SYNC_TIMEOUT_MS = 250

/** Per-request cache state: set by the lookup, completed by onResolution, used by onSend. */
interface PendingStore {
  key: string
  ticket: Ticket
  /** Set by onResolution: the execution had no errors. */
  storable: boolean
  tags: string[]
}

declare module 'fastify' {
  interface FastifyRequest {
    /** For the request log line: what the response cache did with this request. */
    cacheStatus: CacheStatus | null
    responseCachePending: PendingStore | null
    /** A mutation field the cache does not know ran: drop everything. */
    responseCacheUnknownMutation: string | null
  }
}

export interface ResponseCacheHooks {
  /**
   * Goes into the GraphQL route's preHandlers: after the viewer is known, before the context is
   * built. Callback style: a hit answers and does not call `done`.
   */
  lookup (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void
  /** Request decorations: call before the GraphQL route is registered. */
  decorate (app: FastifyInstance): void
  /** Registers the Mercurius and onSend hooks; call after the GraphQL route is registered. */
  register (app: FastifyInstance): void
}

/** `labelOf`: the shared bounded operation-name labeler (observability/operation-label.ts). */
export function createResponseCacheHooks (cache: ResponseCache, bus: InvalidationBus, config: Pick<Config, 'cacheTtlMs' | 'cacheTtlByType' | 'maxTokens' | 'exposeSqlCount'>, labelOf: (operationName: string | null) => string): ResponseCacheHooks {
  const documents = createDocumentInfoCache({ maxTokens: config.maxTokens })
  const keyOf = createResponseCacheKeyOf()
  const ttlOf = createTtlPolicy(config)
  const { metrics } = cache
  const skip = (request: FastifyRequest, reason: SkipReason): void => {
    request.cacheStatus = reason === 'no-cache' || reason === 'bus' ? 'bypass' : 'skip'
    metrics.skips.inc(reason)
  }
  const skipAndGoOn = (request: FastifyRequest, reason: SkipReason, done: HookHandlerDoneFunction): void => {
    skip(request, reason)
    done()
  }
  /** A hit answers with the stored bytes and does not call `done` (nothing else runs); a miss goes on to execution. */
  const answer = (request: FastifyRequest, reply: FastifyReply, key: string, operationName: string | null, found: CacheLookup, done: HookHandlerDoneFunction): void => {
    if (found.ticket === undefined && found.response === undefined) return skipAndGoOn(request, 'bus', done)
    if (found.response !== undefined) {
      request.cacheStatus = 'hit'
      metrics.hits.inc(labelOf(operationName))
      sendStored(request, reply, found.response)
      return
    }
    request.cacheStatus = 'miss'
    metrics.misses.inc(labelOf(operationName))
    request.responseCachePending = { key, ticket: found.ticket!, storable: false, tags: [] }
    done()
  }

  return {
    lookup (request, reply, done) {
      const viewer = request.viewer as Viewer
      const source = (request.method === 'GET' ? request.query : request.body) as Record<string, unknown> | unknown[]
      if (Array.isArray(source)) return skipAndGoOn(request, 'batch', done)
      if (/\bno-cache\b/i.test(request.headers['cache-control'] ?? '')) return skipAndGoOn(request, 'no-cache', done)
      const { query, operationName = null } = source
      // An automatic-persisted-query registration (text and hash; a hash already stored arrives
      // as the text alone): the document is stored only once Mercurius has run it, so it runs;
      // answered from here it would never be stored, and its client would ask again forever.
      if (source.extensions !== undefined && isPersistedQueryRegistration(source.extensions)) return skipAndGoOn(request, 'persisting', done)
      let { variables } = source
      if (typeof query !== 'string' || (operationName !== null && typeof operationName !== 'string')) return skipAndGoOn(request, 'unparsable', done)
      const info = documents.infoOf(query)
      if (info.hash === undefined) return skipAndGoOn(request, 'unparsable', done)
      const type = documents.operationTypeOf(info, operationName)
      if (type !== 'query') return skipAndGoOn(request, type === undefined ? 'unparsable' : 'mutation', done)
      if (typeof variables === 'string') {
        try {
          variables = JSON.parse(variables)
        } catch {
          return skipAndGoOn(request, 'unparsable', done)
        }
      }
      const key = keyOf(info, info.hash, operationName, variables, viewer)
      const found = cache.lookup(key)
      // A memory hit is answered in this very call: no promise, no closure (only the Redis tier waits).
      if (found instanceof Promise) found.then((lookup) => answer(request, reply, key, operationName, lookup, done)).catch(done)
      else answer(request, reply, key, operationName, found, done)
    },

    decorate (app) {
      app.decorateRequest('cacheStatus', null)
      app.decorateRequest('responseCachePending', null)
      app.decorateRequest('responseCacheUnknownMutation', null)
    },

    register (app) {
      app.graphql.addHook('preExecution', (_schema, document, context) => {
        const unknown = unknownMutationField(document)
        if (unknown !== undefined) requestOf(context).responseCacheUnknownMutation = unknown
      })

      app.graphql.addHook('onResolution', async (execution, context) => {
        const request = requestOf(context)
        const ctx = context as unknown as RequestContext
        const pending = request.responseCachePending
        if (pending !== null) {
          pending.storable = execution.errors === undefined || execution.errors.length === 0
          pending.tags = [...ctx.cacheTags]
        }
        // Before the mutation's response leaves, this process's caches drop what it changed
        // (its client must not read stale data after it); every other process hears of the
        // change from PostgreSQL's notification.
        const unknownMutation = request.responseCacheUnknownMutation !== null
        if (unknownMutation) {
          request.log.info({ field: request.responseCacheUnknownMutation }, 'response cache: unknown mutation, dropping every cached response')
          request.responseCacheUnknownMutation = null
          ctx.invalidatedTags.clear()
          bus.announce('all')
        } else if (ctx.invalidatedTags.size > 0) {
          const tags = [...ctx.invalidatedTags]
          ctx.invalidatedTags.clear()
          bus.announce(tags)
        } else {
          return
        }
        // Then the database's own account of the change (whatever the triggers name beyond
        // the resolvers' tags) reaches this process before the response leaves too: the
        // notifications of this request's own commits, or, for a write whose transaction is
        // not known (an unknown mutation), a marker sent after it.
        if (ctx.commits.length > 0 && !unknownMutation) await bus.awaitCommits(ctx.commits, BUS_SYNC_TIMEOUT_MS)
        else await bus.sync(BUS_SYNC_TIMEOUT_MS)
      })

      // Callback style: a hit or an uncached response passes straight through, with no promise.
      app.addHook('onSend', (request, reply, payload, done) => {
        const viewer = request.viewer
        if (viewer === null) return done(null, payload)
        setCachingHeaders(reply, viewer)
        const pending = request.responseCachePending
        if (pending === null) return done(null, payload)
        request.responseCachePending = null
        storeSent(request, reply, payload, pending).then((sent) => done(null, sent), done)
      })
    }
  }

  /** Stores the bytes about to be sent (when they may be), and answers 304 for a matching If-None-Match. */
  async function storeSent (request: FastifyRequest, reply: FastifyReply, payload: unknown, pending: PendingStore): Promise<unknown> {
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
    const body = config.exposeSqlCount ? zeroSqlCount(payload) : payload
    const etag = etagOf(body)
    const outcome = await cache.store(pending.key, body, etag, pending.tags, ttlMs, pending.ticket)
    if (outcome === 'stored') metrics.stores.inc()
    else skip(request, 'race')
    reply.header('etag', etag)
    if (matchesEtag(request, etag)) {
      reply.code(304)
      return ''
    }
    return payload
  }
}

/** Vary + Cache-Control of every GraphQL response, cached or not. */
export function setCachingHeaders (reply: FastifyReply, viewer: Viewer): void {
  // The same URL answers differently per token: shared caches must key on Authorization, and
  // must not keep a signed-in user's answer at all.
  reply.header('vary', 'Authorization')
  reply.header('cache-control', viewer.id === null ? 'no-cache' : 'private, no-store')
}

// Private:

function sendStored (request: FastifyRequest, reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.header('etag', response.etag)
  if (matchesEtag(request, response.etag)) return reply.code(304).send()
  return reply.send(response.body)
}

function matchesEtag (request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  return header.trim() === '*' || header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag)
}

function etagOf (body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}

/** A hit runs no SQL: the stored copy says so when EXPOSE_SQL_COUNT adds the count. */
function zeroSqlCount (payload: string): string {
  return payload.replace(/"sqlStatements":\d+(?=\}\}$)/, '"sqlStatements":0')
}

/** `extensions` (an object, or GET's JSON text) holds a persistedQuery. */
function isPersistedQueryRegistration (extensions: unknown): boolean {
  if (typeof extensions === 'string') return extensions.includes('"persistedQuery"')
  return extensions !== null && typeof extensions === 'object' && 'persistedQuery' in extensions
}

function requestOf (context: unknown): FastifyRequest {
  return (context as { reply: FastifyReply }).reply.request
}

/** The first mutation root field not in the known list, if any (`__typename` is harmless). */
function unknownMutationField (document: DocumentNode): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'mutation') continue
    for (const selection of definition.selectionSet.selections) {
      // A fragment at the mutation root hides its fields: treat it as unknown.
      if (selection.kind !== Kind.FIELD) return `...${selection.kind}`
      if (!knownMutationFields.has(selection.name.value)) return selection.name.value
    }
  }
  return undefined
}
