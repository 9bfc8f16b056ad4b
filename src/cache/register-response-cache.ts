/**
 * Wires the response cache into the app, in two steps around the GraphQL route: `prepare`
 * before it (the lookup preHandler must be handed to the route), `register` after it (the
 * Mercurius hooks need `app.graphql`). CACHE_ENABLED=false: no preHandler, no cache hooks;
 * only the Cache-Control / Vary headers remain, which are right with or without a cache.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify'
import type { Registry } from 'prom-client'
import type { AppServices } from '../context.ts'
import { createCacheWarmer, readWarmFile, type CacheWarmer } from './cache-warming.ts'
import { createResponseCache, type ResponseCache } from './response-cache.ts'
import { createResponseCacheHooks, setCachingHeaders } from './response-cache-hooks.ts'

export interface PreparedResponseCache {
  readonly preHandlers: preHandlerAsyncHookHandler[]
  register (app: FastifyInstance): void
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The response cache (null when disabled) and its warmer: tests and benchmarks look in. */
    responseCache: { cache: ResponseCache, warmer: CacheWarmer } | null
  }
}

export interface ResponseCacheDependencies {
  registry: Registry
  /** The bounded operation-name labeler shared with the other metrics. */
  labelOperation: (operationName: string | null) => string
}

export async function prepareResponseCache (app: FastifyInstance, services: AppServices, { registry, labelOperation }: ResponseCacheDependencies): Promise<PreparedResponseCache> {
  const { config } = services
  if (!config.cacheEnabled) {
    return { preHandlers: [], register: (app) => { app.decorate('responseCache', null); registerHeadersOnly(app) } }
  }
  const warmOperations = config.cacheWarmFile === undefined ? [] : readWarmFile(config.cacheWarmFile)
  const [{ name }] = await services.db.sql<{ name: string }>`select current_database() as name`
  const cache = await createResponseCache({ config, registry, log: app.log, namespace: name })
  app.addHook('onClose', () => cache.close())
  const hooks = createResponseCacheHooks(cache, config, labelOperation)
  hooks.decorate(app)

  return {
    preHandlers: [hooks.lookup as preHandlerAsyncHookHandler],
    register (app) {
      hooks.register(app)
      const warmer = createCacheWarmer(app, warmOperations)
      app.decorate('responseCache', { cache, warmer })
      cache.onInvalidation(() => warmer.schedule())
      // The rows beneath the loaders are dropped by the same tags, from this or another process.
      cache.onInvalidation((tags) => tags === 'all' ? services.rowCache.clear() : services.rowCache.invalidate(tags))
      app.addHook('onReady', async () => warmer.schedule())
      app.addHook('preClose', async () => warmer.stop())
    }
  }
}

// Private:

function registerHeadersOnly (app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.viewer !== null) setCachingHeaders(reply, request.viewer)
    done(null, payload)
  })
}
