/**
 * The response cache on the GraphQL route: a preHandler that answers hits with the stored
 * bytes (no parse, no validation, no execution, no SQL), Mercurius hooks that mark what may be
 * stored and apply a mutation's invalidations before its response leaves, and an onSend hook
 * that stores the exact bytes sent and sets ETag / Cache-Control / Vary.
 *
 * An answer is stored for every viewer it does not depend on (docs/caching.md, "Answers shared
 * across viewers"). The key of a request holds the document, the operation and the variables,
 * never the viewer. Under it is either the answer itself (its execution asked nothing of the
 * viewer) or a marker naming the questions the answers there asked (`vary`, like HTTP's Vary);
 * the answer for this viewer is then under a second key made of the first, the questions and
 * this viewer's answers to them. Execution sees the viewer only through askingViewer
 * (viewer.ts), so every question is recorded, and an entry reaches only viewers who answer
 * every one of its questions the same way.
 *
 * Concurrent misses of one key in this process compute once: the first executes, the others
 * wait for its store (at most a short while) and look again (`flights`). What onSend stores,
 * and how: store-sent.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Viewer } from '../viewer.ts'
import type { Config } from '../config.ts'
import type { RequestContext } from '../graphql/context.ts'
import type { SkipReason } from './cache-metrics.ts'
import { createResponseCacheKeyOf, variantKeyOf } from './cache-key.ts'
import { sendStored, setCachingHeaders } from './http-caching.ts'
import { createSingleFlight } from './single-flight.ts'
import { createDocumentInfoCache } from './document-info.ts'
import { decorateMutationInvalidation, registerMutationInvalidation, requestOf } from './mutation-invalidation.ts'
import type { InvalidationBus } from '../changes/invalidation-bus.ts'
import type { Ticket } from '../changes/race-tracker.ts'
import type { CacheLookup, ResponseCache } from './response-cache.ts'
import type { StoredResponse } from './response-store.ts'
import { createStoreSent, type PendingStore } from './store-sent.ts'
import { createTtlPolicy } from './ttl-policy.ts'

export type CacheStatus = 'hit' | 'miss' | 'skip' | 'bypass'

/** How long a miss waits for the same key's computation in flight before computing itself. */
const INFLIGHT_WAIT_MS = 1000

declare module 'fastify' {
  interface FastifyRequest {
    /** For the request log line: what the response cache did with this request. */
    cacheStatus: CacheStatus | null
    responseCachePending: PendingStore | null
    /** This request already waited for another's computation of its key: it computes now. */
    responseCacheWaited: boolean
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
  const { metrics } = cache
  const skip = (request: FastifyRequest, reason: SkipReason): void => {
    request.cacheStatus = reason === 'no-cache' || reason === 'bus' ? 'bypass' : 'skip'
    metrics.skips.inc(reason)
  }
  const storeSent = createStoreSent({ cache, ttlOf: createTtlPolicy(config), exposeSqlCount: config.exposeSqlCount, skip })
  const skipAndGoOn = (request: FastifyRequest, reason: SkipReason, done: HookHandlerDoneFunction): void => {
    skip(request, reason)
    done()
  }
  const flights = createSingleFlight()
  // A marker's variant key per viewer, made once: the marker is one object while it is cached,
  // the viewer one per users row, and a hit through a marker would otherwise hash every time.
  const variantKeys = new WeakMap<StoredResponse, WeakMap<Viewer, string | undefined>>()
  const variantKeyUnder = (marker: StoredResponse, baseKey: string, viewer: Viewer): string | undefined => {
    let byViewer = variantKeys.get(marker)
    if (byViewer === undefined) variantKeys.set(marker, byViewer = new WeakMap())
    if (byViewer.has(viewer)) return byViewer.get(viewer)
    const key = variantKeyOf(baseKey, marker.vary!, viewer)
    byViewer.set(viewer, key)
    return key
  }

  /** A hit answers with the stored bytes and does not call `done` (nothing else runs); a miss goes on to execution. */
  const answer = (request: FastifyRequest, reply: FastifyReply, keys: LookupKeys, operationName: string | null, found: CacheLookup, done: HookHandlerDoneFunction): void => {
    // Answered meanwhile (its deadline's 504, while it waited for Redis): nothing may claim or send now.
    if (reply.sent) return done()
    if (found.ticket === undefined && found.response === undefined) return skipAndGoOn(request, 'bus', done)
    const response = found.response
    if (response?.vary !== undefined && keys.knownVary === undefined) {
      // A marker: this viewer's answer is under the key its answers to the questions make.
      const variant = variantKeyUnder(response, keys.baseKey, request.viewer as Viewer)
      if (variant !== undefined) return lookUp(request, reply, { baseKey: keys.baseKey, key: variant, knownVary: response.vary }, operationName, done)
      // A marker of questions this code does not ask: compute, and store over it. A memory hit carries no ticket.
      return miss(request, reply, { ...keys, knownVary: undefined }, operationName, found.ticket ?? cache.ticket(), done)
    }
    if (response !== undefined && response.vary === undefined) {
      request.cacheStatus = 'hit'
      metrics.hits.inc(labelOf(operationName))
      sendStored(request, reply, response)
      return
    }
    miss(request, reply, keys, operationName, found.ticket!, done)
  }

  const miss = (request: FastifyRequest, reply: FastifyReply, keys: LookupKeys, operationName: string | null, ticket: Ticket, done: HookHandlerDoneFunction): void => {
    const waiting = request.responseCacheWaited ? undefined : flights.wait(keys.key, INFLIGHT_WAIT_MS)
    if (waiting !== undefined) {
      // Another request is computing this very key: wait for its store, then look again.
      request.responseCacheWaited = true
      metrics.inflightWaits.inc()
      waiting.then(() => {
        // Answered meanwhile (its deadline's 504): a claim taken now would never be released.
        if (reply.sent) done()
        // From the base key: the other request may have stored a marker of other questions.
        else lookUp(request, reply, { baseKey: keys.baseKey, key: keys.baseKey, knownVary: undefined }, operationName, done)
      }).catch(done)
      return
    }
    request.cacheStatus = 'miss'
    metrics.misses.inc(labelOf(operationName))
    const release = flights.claim(keys.key) ?? noRelease
    request.responseCachePending = { baseKey: keys.baseKey, knownVary: keys.knownVary, ticket, storable: false, tags: [], release }
    done()
  }

  const lookUp = (request: FastifyRequest, reply: FastifyReply, keys: LookupKeys, operationName: string | null, done: HookHandlerDoneFunction): void => {
    const found = cache.lookup(keys.key)
    // A memory hit is answered in this very call: no promise, no closure (only the Redis tier waits).
    if (found instanceof Promise) found.then((lookup) => answer(request, reply, keys, operationName, lookup, done)).catch(done)
    else answer(request, reply, keys, operationName, found, done)
  }

  function lookUpRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
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
    const baseKey = keyOf(info, info.hash, operationName, variables)
    lookUp(request, reply, { baseKey, key: baseKey, knownVary: undefined }, operationName, done)
  }

  return {
    lookup (request, reply, done) {
      lookUpRequest(request, reply, done)
    },

    decorate (app) {
      app.decorateRequest('cacheStatus', null)
      app.decorateRequest('responseCachePending', null)
      decorateMutationInvalidation(app)
      app.decorateRequest('responseCacheWaited', false)
    },

    register (app) {
      registerMutationInvalidation(app, bus)

      app.graphql.addHook('onResolution', async (execution, context) => {
        const pending = requestOf(context).responseCachePending
        if (pending !== null) {
          const ctx = context as unknown as RequestContext
          pending.storable = execution.errors === undefined || execution.errors.length === 0
          pending.tags = [...ctx.cacheTags]
        }
      })

      // A request that ends without reaching the store (its client left, an error before
      // onSend) gives its key up, so nobody waits for it.
      app.addHook('onResponse', (request, _reply, done) => {
        request.responseCachePending?.release()
        done()
      })
      app.addHook('onRequestAbort', (request, done) => {
        request.responseCachePending?.release()
        done()
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
}

// Private:

/** A miss that waited and computes without a claim of its own releases nothing. */
function noRelease (): void {}

interface LookupKeys {
  /** The request's key: document, operation, variables. */
  baseKey: string
  /** The key looked up now: baseKey, or a variant of it under a marker. */
  key: string
  /** The marker's questions, once one was found under baseKey. */
  knownVary: readonly string[] | undefined
}

/** `extensions` (an object, or GET's JSON text) holds a persistedQuery. */
function isPersistedQueryRegistration (extensions: unknown): boolean {
  if (typeof extensions === 'string') return extensions.includes('"persistedQuery"')
  return extensions !== null && typeof extensions === 'object' && 'persistedQuery' in extensions
}
