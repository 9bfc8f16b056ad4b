/**
 * The one request context: built once per request, passed down to resolvers, loaders and the
 * SQL gateway. Nothing request-scoped lives in a module variable.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { LoginThrottle } from '../auth/login-throttle.ts'
import type { PasswordChecker } from '../auth/passwords.ts'
import type { TokenService } from '../auth/tokens.ts'
import { askingViewer, type AskedViewer, type Viewer } from '../viewer.ts'
import type { ViewerFromRow } from '../auth/viewer-from-row.ts'
import type { CacheCoherence } from '../changes/cache-coherence.ts'
import type { RowCache } from '../rows/row-cache.ts'
import type { Config } from '../config.ts'
import type { Database, QueryScope } from '../db/gateway.ts'
import type { Repositories } from '../db/repositories.ts'
import type { Deadline } from '../deadline/deadline.ts'
import type { LoaderOptions } from '../loaders/loader-options.ts'
import { createLoaders, type Loaders } from '../loaders/loaders.ts'
import type { RowSources } from '../rows/row-sources.ts'

/** What lives for the whole process and every request reaches through its context. */
export interface AppServices {
  readonly config: Readonly<Config>
  readonly db: Database
  readonly repositories: Repositories
  readonly tokens: TokenService
  readonly passwords: PasswordChecker
  /** The sign-in limits (per account and per client address). */
  readonly loginThrottle: LoginThrottle
  readonly loaderOptions: LoaderOptions
  /** Rows shared between requests beneath the loaders (src/rows/row-cache.ts). */
  readonly rowCache: RowCache
  /** What the row cache's misses and refreshes are read with. */
  readonly rowSources: RowSources
  /** The invalidation bus and race tracker every cache shares; null with CACHE_ENABLED=false. */
  readonly coherence: CacheCoherence | null
  /** A signed-in viewer's current role and existence, from the users row. */
  readonly viewerFromRow: ViewerFromRow
}

export interface RequestContext extends QueryScope {
  readonly services: AppServices
  /**
   * Who is asking, as execution may see them: every question asked of the viewer is recorded
   * (the response cache shares the answer with every viewer who answers alike).
   */
  readonly viewer: AskedViewer
  /** Who is asking, by address: what the per-client limits count by. */
  readonly clientAddress: string
  readonly loaders: Loaders
  readonly deadline: Deadline
  readonly sqlCounter: { statements: number }
  /** Entity and list tags of everything this response holds (see changes/cache-tags.ts). */
  readonly cacheTags: Set<string>
  /** Tags a mutation changed: the response cache drops them once the mutation is done. */
  readonly invalidatedTags: Set<string>
  /** Transaction ids of the writes this request committed (src/db/commits.ts). */
  readonly commits: string[]
  readonly log: FastifyBaseLogger
}

export function createRequestContext (services: AppServices, { viewer, deadline, log, clientAddress = 'unknown', sqlCounter = { statements: 0 } }: { viewer: Viewer, deadline: Deadline, log: FastifyBaseLogger, clientAddress?: string, sqlCounter?: { statements: number } }): RequestContext {
  const scope: QueryScope = { sqlCounter, deadline }
  const asked = askingViewer(viewer)
  return {
    services,
    viewer: asked,
    clientAddress,
    loaders: createLoaders({ repositories: services.repositories, viewer: asked, scope, rowCache: services.rowCache, rowSources: services.rowSources }, services.loaderOptions),
    deadline,
    sqlCounter,
    cacheTags: new Set(),
    invalidatedTags: new Set(),
    commits: [],
    log
  }
}
