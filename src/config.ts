/**
 * One schema of environment variables → one frozen, typed Config.
 *
 * Every option is declared once below with its default and its documentation; the README's
 * configuration table is checked against this list by a test. A bad value names the variable
 * and the value got. Nothing else in the code reads process.env.
 */

export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  databaseListenUrl: string | undefined
  embeddedPostgresPort: number
  dataDir: string
  dbPoolMax: number
  dbPreparedStatements: boolean
  redisUrl: string | undefined
  deploymentId: string | undefined
  jwtSecret: string | undefined
  tokenTtlSeconds: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  logFormat: 'auto' | 'json' | 'pretty'
  workers: number
  production: boolean
  seedDemoData: boolean
  exposeSqlCount: boolean
  loaderMaxBatchSize: number
  cacheEnabled: boolean
  cacheTtlMs: number
  cacheTtlByType: Readonly<Record<string, number>>
  cacheMaxBytes: number
  cacheWarmFile: string | undefined
  rowCacheMaxBytes: number
  rowCacheTtlMs: number
  cacheClockSkewMs: number
  cacheBusHeartbeatMs: number
  redisCommandTimeoutMs: number
  httpTimeoutMs: number
  graphqlTimeoutMs: number
  dbTimeoutMs: number
  maxDepth: number
  maxAliases: number
  maxDirectives: number
  maxTokens: number
  maxCost: number
  bodyLimitBytes: number
  batchedQueries: boolean
  maxBatchedOperations: number
  maxJsonDepth: number
  trustProxy: number
  loginMaxFailuresPerAccount: number
  loginMaxFailuresPerClient: number
  loginThrottleWindowMs: number
  rateLimitMaxRequests: number
  rateLimitWindowMs: number
  shedMaxEventLoopDelayMs: number
  shedMaxHeapUsedBytes: number
  shutdownGraceMs: number
  metricsMaxOperations: number
  otelEndpoint: string | undefined
  trustedDocumentsFile: string | undefined
  persistedQueriesMaxBytes: number
}

type Parser<T> = (raw: string, name: string) => T

interface Option<K extends keyof Config> {
  env: string
  key: K
  parse: Parser<Config[K]>
  /** The default as a string, parsed like any other value; undefined means "unset". */
  fallback: string | undefined
  doc: string
}

export class ConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const MiB = 1024 * 1024

/** The single list of options: env name, default, documentation. Order = README order. */
export const configOptions = [
  option('PORT', 'port', integer(0, 65535), '8080', 'HTTP port to listen on.'),
  option('HOST', 'host', text, '127.0.0.1', 'Address to bind.'),
  option('DATABASE_URL', 'databaseUrl', url(['postgres:', 'postgresql:']), undefined, 'External PostgreSQL. Unset: an embedded PostgreSQL is started with data under DATA_DIR.'),
  option('DATABASE_LISTEN_URL', 'databaseListenUrl', url(['postgres:', 'postgresql:']), undefined, 'Where each process LISTENs for cache invalidations, on a connection of its own. Unset: the database URL. Must reach PostgreSQL directly or through session pooling (LISTEN does not work through PgBouncer transaction pooling).'),
  option('EMBEDDED_PG_PORT', 'embeddedPostgresPort', integer(1, 65535), '54329', 'Port of the embedded PostgreSQL (only without DATABASE_URL).'),
  option('DATA_DIR', 'dataDir', text, '.data', 'Where the embedded PostgreSQL and the generated dev JWT secret live.'),
  option('DB_POOL_MAX', 'dbPoolMax', integer(1, 1000), '10', 'PostgreSQL connections per process.'),
  option('DB_PREPARED_STATEMENTS', 'dbPreparedStatements', boolean, 'true', 'Named prepared statements: PostgreSQL parses and plans each statement once per connection. Set false behind PgBouncer in transaction mode older than 1.21 (or without max_prepared_statements).'),
  option('REDIS_URL', 'redisUrl', url(['redis:', 'rediss:']), undefined, 'Redis for the shared response-cache tier. Unset: memory tier only.'),
  option('DEPLOYMENT_ID', 'deploymentId', identifier, undefined, 'Names this deployment in Redis keys, so deployments sharing one Redis never share entries. Unset: derived from the database (its server\'s system identifier and its name), so every instance on one database agrees.'),
  option('JWT_SECRET', 'jwtSecret', secret, undefined, 'HS256 secret, at least 32 characters. Unset (dev only): generated once and kept in DATA_DIR/jwt-secret. Required when PRODUCTION=true.'),
  option('TOKEN_TTL', 'tokenTtlSeconds', duration, '1h', 'Token lifetime: 3600, 90s, 15m, 1h, 7d.'),
  option('LOG_LEVEL', 'logLevel', oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const), 'info', 'pino log level.'),
  option('LOG_FORMAT', 'logFormat', oneOf(['auto', 'json', 'pretty'] as const), 'auto', 'auto: human-readable lines (pino-pretty) when stdout is a terminal, JSON lines otherwise; json or pretty: always that.'),
  option('WORKERS', 'workers', integer(1, 64), '1', 'Processes serving the one port (node:cluster).'),
  option('PRODUCTION', 'production', boolean, 'false', 'true: no GraphiQL, no introspection, no field suggestions, JWT_SECRET required, limits not revealed.'),
  option('SEED_DEMO_DATA', 'seedDemoData', boolean, undefined, 'Seed the small demo data set (its logins are in this README) into an empty database at start. Unset: true, but false with PRODUCTION=true; true is refused with PRODUCTION=true.'),
  option('EXPOSE_SQL_COUNT', 'exposeSqlCount', boolean, 'false', 'Add extensions.sqlStatements to responses (tests, benchmarks). Refused with PRODUCTION=true.'),
  option('LOADER_MAX_BATCH_SIZE', 'loaderMaxBatchSize', integer(1, 10_000), '500', 'Keys per batched SQL statement; larger batches split.'),
  option('CACHE_ENABLED', 'cacheEnabled', boolean, 'true', 'The per-user response cache.'),
  option('CACHE_TTL_MS', 'cacheTtlMs', integer(0, 86_400_000), '60000', 'Default response TTL; 0 = never cached.'),
  option('CACHE_TTL_BY_TYPE', 'cacheTtlByType', ttlMap, '', 'Per-type TTLs, e.g. "User=30000,Tag=120000"; a response lives as long as the shortest TTL of the types it holds.'),
  option('CACHE_MAX_BYTES', 'cacheMaxBytes', integer(1024, 64 * 1024 * MiB), String(64 * MiB), 'Memory-tier bound in bytes: each answer counted with what it keeps on the heap (measured per entry; docs/deployment.md, "How much memory").'),
  option('CACHE_WARM_FILE', 'cacheWarmFile', text, undefined, 'JSON list of {query, variables} run in the anonymous scope at start and after they are invalidated.'),
  option('ROW_CACHE_MAX_BYTES', 'rowCacheMaxBytes', integer(0, 64 * 1024 * MiB), String(64 * MiB), 'Bound of the row cache (users, notes, tag lists, author note lists, note counts shared between requests beneath the loaders; each request still applies its viewer\'s rule), note bodies counted. 0 = off; off too with CACHE_ENABLED=false.'),
  option('ROW_CACHE_TTL_MS', 'rowCacheTtlMs', integer(1, 86_400_000), '60000', 'How long a row (and a verified token) is kept at most; a row still being read is read again before that, off the request path.'),
  option('CACHE_CLOCK_SKEW_MS', 'cacheClockSkewMs', integer(0, 60_000), '50', 'Largest clock difference between machines sharing Redis: a shared entry computed less than this before an invalidation of its tags is never served.'),
  option('CACHE_BUS_HEARTBEAT_MS', 'cacheBusHeartbeatMs', integer(100, 60_000), '1000', 'The invalidation bus checks its connection this often; unanswered within three times as long, caches are flushed and bypassed until it listens again.'),
  option('REDIS_COMMAND_TIMEOUT_MS', 'redisCommandTimeoutMs', integer(1, 60_000), '50', 'A Redis command slower than this counts as a failure; the cache falls back to memory.'),
  option('HTTP_TIMEOUT_MS', 'httpTimeoutMs', integer(1, 3_600_000), '30000', 'Whole-request budget.'),
  option('GRAPHQL_TIMEOUT_MS', 'graphqlTimeoutMs', integer(1, 3_600_000), '25000', 'GraphQL execution budget (< HTTP_TIMEOUT_MS).'),
  option('DB_TIMEOUT_MS', 'dbTimeoutMs', integer(1, 3_600_000), '20000', 'Per SQL statement budget (< GRAPHQL_TIMEOUT_MS).'),
  option('MAX_DEPTH', 'maxDepth', integer(1, 100), '8', 'Query depth limit.'),
  option('MAX_ALIASES', 'maxAliases', integer(0, 1000), '15', 'Aliases per operation.'),
  option('MAX_DIRECTIVES', 'maxDirectives', integer(0, 1000), '50', 'Directives per operation.'),
  option('MAX_TOKENS', 'maxTokens', integer(1, 100_000), '1000', 'Tokens per document.'),
  option('MAX_COST', 'maxCost', integer(1, 100_000_000), '50000', 'Estimated rows an operation may touch (list sizes from `first`, variables included).'),
  option('BODY_LIMIT_BYTES', 'bodyLimitBytes', integer(1024, 64 * MiB), String(MiB), 'Request body limit; larger → 413.'),
  option('BATCHED_QUERIES', 'batchedQueries', boolean, 'false', 'Accept a JSON array of operations in one POST.'),
  option('MAX_BATCHED_OPERATIONS', 'maxBatchedOperations', integer(1, 1000), '10', 'Operations per batch when BATCHED_QUERIES=true.'),
  option('MAX_JSON_DEPTH', 'maxJsonDepth', integer(1, 1000), '32', 'Nesting depth of a JSON body and of GET `variables`/`extensions`; deeper → 400 BAD_REQUEST.'),
  option('TRUST_PROXY', 'trustProxy', integer(0, 100), '0', 'Proxies in front of Jotter whose X-Forwarded-For is believed: the client address the rate limits count by. 0 = the TCP peer.'),
  option('LOGIN_MAX_FAILURES_PER_ACCOUNT', 'loginMaxFailuresPerAccount', integer(0, 1_000_000), '5', 'Sign-in attempts per email that may fail within LOGIN_THROTTLE_WINDOW_MS; then 429 RATE_LIMITED until the window ends. A successful sign-in resets the count. 0 = off.'),
  option('LOGIN_MAX_FAILURES_PER_CLIENT', 'loginMaxFailuresPerClient', integer(0, 1_000_000), '30', 'Failed sign-ins per client address (any emails) within LOGIN_THROTTLE_WINDOW_MS; then 429 RATE_LIMITED. 0 = off.'),
  option('LOGIN_THROTTLE_WINDOW_MS', 'loginThrottleWindowMs', integer(1000, 86_400_000), '900000', 'Window of the sign-in limits (fixed, starting at the first failure). Counted in Redis when REDIS_URL is set.'),
  option('RATE_LIMIT_MAX_REQUESTS', 'rateLimitMaxRequests', integer(0, 100_000_000), '0', 'Requests per client address within RATE_LIMIT_WINDOW_MS on every route but /health/* and /metrics; then 429 RATE_LIMITED. 0 = off.'),
  option('RATE_LIMIT_WINDOW_MS', 'rateLimitWindowMs', integer(1000, 86_400_000), '60000', 'Window of RATE_LIMIT_MAX_REQUESTS.'),
  option('SHED_MAX_EVENT_LOOP_DELAY_MS', 'shedMaxEventLoopDelayMs', integer(0, 60_000), '1000', 'Event-loop delay above which requests get 503 + Retry-After (0 = off).'),
  option('SHED_MAX_HEAP_USED_BYTES', 'shedMaxHeapUsedBytes', integer(0, 1024 * 1024 * MiB), '0', 'Heap use above which requests get 503 (0 = off).'),
  option('SHUTDOWN_GRACE_MS', 'shutdownGraceMs', integer(0, 600_000), '10000', 'How long in-flight requests may finish after SIGTERM.'),
  option('METRICS_MAX_OPERATIONS', 'metricsMaxOperations', integer(1, 10_000), '100', 'Distinct operation names in metric labels; the rest are "other".'),
  option('OTEL_EXPORTER_OTLP_ENDPOINT', 'otelEndpoint', url(['http:', 'https:']), undefined, 'OTLP/HTTP endpoint; set to turn tracing on.'),
  option('TRUSTED_DOCUMENTS_FILE', 'trustedDocumentsFile', text, undefined, 'JSON manifest of the only documents that may run (GraphQL Code Generator\'s `{ "<sha256>": "<document>" }` or an Apollo persisted-query manifest), checked against the schema at start; anything else → 403 DOCUMENT_NOT_TRUSTED before it is parsed. Set it when every client is built from a manifest (docs/api.md, "Persisted queries and trusted documents"). Unset: any document may run.'),
  option('PERSISTED_QUERIES_MAX_BYTES', 'persistedQueriesMaxBytes', integer(1024, 1024 * MiB), String(4 * MiB), 'Bound of the automatic-persisted-query store in this process (document text plus 128 bytes per entry; least recently used out first). With REDIS_URL the documents are shared through Redis too.')
] as const

/** Reads the options from an environment (process.env by default) and freezes the result. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Readonly<Config> {
  return checkConfig(readOptions(env))
}

/** Builds a config from defaults plus typed overrides: what tests use. */
export function configWith (overrides: Partial<Config>, env: Record<string, string | undefined> = {}): Readonly<Config> {
  return checkConfig({ ...readOptions(env), ...overrides })
}

// Private:

/** Defaults that depend on another option; the rest are in configOptions. */
type Unresolved = Omit<Config, 'seedDemoData'> & { seedDemoData: boolean | undefined }

function readOptions (env: Record<string, string | undefined>): Unresolved {
  const config: Partial<Record<keyof Config, unknown>> = {}
  for (const opt of configOptions as readonly Option<keyof Config>[]) {
    const raw = env[opt.env]
    const value = raw === undefined || raw === '' ? opt.fallback : raw
    config[opt.key] = value === undefined ? undefined : opt.parse(value, opt.env)
  }
  return config as Unresolved
}

function checkConfig (unresolved: Unresolved): Readonly<Config> {
  // The demo logins are published in the README: never in production unless asked, and
  // asking is refused below.
  const config: Config = { ...unresolved, seedDemoData: unresolved.seedDemoData ?? !unresolved.production }
  if (config.production && config.seedDemoData) {
    throw new ConfigError('SEED_DEMO_DATA=true is refused when PRODUCTION=true: the demo logins are published')
  }
  if (!(config.httpTimeoutMs > config.graphqlTimeoutMs && config.graphqlTimeoutMs > config.dbTimeoutMs)) {
    throw new ConfigError('timeouts must decrease strictly: HTTP_TIMEOUT_MS > GRAPHQL_TIMEOUT_MS > DB_TIMEOUT_MS, ' +
      `got ${config.httpTimeoutMs} > ${config.graphqlTimeoutMs} > ${config.dbTimeoutMs}`)
  }
  if (config.production && config.jwtSecret === undefined) {
    throw new ConfigError('JWT_SECRET is required when PRODUCTION=true')
  }
  if (config.production && config.exposeSqlCount) {
    throw new ConfigError('EXPOSE_SQL_COUNT=true is refused when PRODUCTION=true')
  }
  return Object.freeze({ ...config, cacheTtlByType: Object.freeze({ ...config.cacheTtlByType }) })
}

function option<K extends keyof Config> (env: string, key: K, parse: Parser<Config[K]>, fallback: string | undefined, doc: string): Option<K> {
  return { env, key, parse, fallback, doc }
}

function integer (min: number, max: number): Parser<number> {
  return (raw, name) => {
    const value = Number(raw)
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`${name} must be an integer from ${min} to ${max}: ${JSON.stringify(raw)}`)
    }
    return value
  }
}

function text (raw: string): string {
  return raw
}

function identifier (raw: string, name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(raw)) throw new ConfigError(`${name} must be 1 to 64 letters, digits, '_', '.' or '-': ${JSON.stringify(raw)}`)
  return raw
}

function secret (raw: string, name: string): string {
  if (raw.length < 32) throw new ConfigError(`${name} must be at least 32 characters: got ${raw.length}`)
  return raw
}

function boolean (raw: string, name: string): boolean {
  const lower = raw.trim().toLowerCase()
  if (lower === 'true' || lower === '1') return true
  if (lower === 'false' || lower === '0') return false
  throw new ConfigError(`${name} must be true or false: ${JSON.stringify(raw)}`)
}

function oneOf<const T extends readonly string[]> (values: T): Parser<T[number]> {
  return (raw, name) => {
    if (!values.includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}: ${JSON.stringify(raw)}`)
    return raw as T[number]
  }
}

function url (protocols: string[]): Parser<string> {
  return (raw, name) => {
    let parsed: URL
    try {
      parsed = new URL(raw)
    } catch {
      throw new ConfigError(`${name} must be a URL: ${JSON.stringify(raw)}`)
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(`${name} must use ${protocols.join(' or ')}: ${JSON.stringify(parsed.protocol)}`)
    }
    return raw
  }
}

const durationUnits: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }

function duration (raw: string, name: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(raw.trim())
  const seconds = match ? Number(match[1]) * durationUnits[match[2]] : NaN
  if (!(seconds > 0)) throw new ConfigError(`${name} must be a positive duration like 3600, 90s, 15m, 1h or 7d: ${JSON.stringify(raw)}`)
  return seconds
}

function ttlMap (raw: string, name: string): Record<string, number> {
  const map: Record<string, number> = {}
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$/.exec(part)
    if (!match) throw new ConfigError(`${name} must look like "User=30000,Tag=120000": ${JSON.stringify(part)}`)
    map[match[1]] = Number(match[2])
  }
  return map
}
