/**
 * Wires the response cache into the app, in two steps around the GraphQL route: `prepare`
 * before it (the lookup preHandler must be handed to the route), `register` after it (the
 * Mercurius hooks need `app.graphql`). CACHE_ENABLED=false: no preHandler, no cache hooks;
 * only the Cache-Control / Vary headers remain, which are right with or without a cache.
 */
import type { FastifyInstance, preHandlerHookHandler } from 'fastify'
import type { Registry } from 'prom-client'
import type { AppServices } from '../graphql/context.ts'
import { createCacheWarmer, readWarmFile, type CacheWarmer } from './cache-warming.ts'
import type { InvalidationBus } from '../changes/invalidation-bus.ts'
import { createResponseCache, type ResponseCache } from './response-cache.ts'
import { createResponseCacheHooks } from './response-cache-hooks.ts'
import { setCachingHeaders } from './http-caching.ts'

export interface PreparedResponseCache {
  readonly preHandlers: preHandlerHookHandler[]
  register (app: FastifyInstance): void
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The response cache (null when disabled), its warmer and the bus: tests and benchmarks look in. */
    responseCache: { cache: ResponseCache, warmer: CacheWarmer, bus: InvalidationBus } | null
  }
}

export interface ResponseCacheDependencies {
  registry: Registry
  /** Redis keys' namespace: DEPLOYMENT_ID, or the database's identity once it answers. */
  deploymentId: string | Promise<string>
  /** The bounded operation-name labeler shared with the other metrics. */
  labelOperation: (operationName: string | null) => string
}

export async function prepareResponseCache (app: FastifyInstance, services: AppServices, { registry, deploymentId, labelOperation }: ResponseCacheDependencies): Promise<PreparedResponseCache> {
  const { config } = services
  const { coherence } = services
  if (coherence === null) {
    return { preHandlers: [], register: (app) => { app.decorate('responseCache', null); registerHeadersOnly(app) } }
  }
  const warmOperations = config.cacheWarmFile === undefined ? [] : readWarmFile(config.cacheWarmFile)
  const cache = await createResponseCache({ config, deploymentId, registry, log: app.log, bus: coherence.bus, tracker: coherence.tracker })
  app.addHook('onClose', () => cache.close())
  const hooks = createResponseCacheHooks(cache, coherence.bus, config, labelOperation)
  hooks.decorate(app)

  return {
    preHandlers: [hooks.lookup as preHandlerHookHandler],
    register (app) {
      hooks.register(app)
      const warmer = createCacheWarmer(app, warmOperations)
      app.decorate('responseCache', { cache, warmer, bus: coherence.bus })
      cache.onInvalidation(() => warmer.schedule())
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
