/**
 * The scale-out topology on one machine, each part on its own port:
 *
 *   clients → HAProxy (round robin, /health/ready checks) → N Jotter instances
 *   instances → PgBouncer (transaction pooling) → PostgreSQL; instances ↔ Redis
 *   instances → PostgreSQL directly for DATABASE_LISTEN_URL (LISTEN needs a session)
 *
 * Started bottom-up, each part waited for before the next; stopped top-down (HAProxy's soft
 * stop first, so nothing new arrives while the instances drain), and everything already
 * started is stopped again when a later part fails.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { freePort } from '../../tools/free-port.ts'
import { describeMissing, type NativeProgram } from './binaries.ts'
import { startHaproxy, type HaproxyPart } from './haproxy.ts'
import { startInstance, type InstancePart } from './jotter-instance.ts'
import type { ManagedProcess, PartHooks } from './managed-process.ts'
import { startPgBouncer, type PgBouncerPart } from './pgbouncer.ts'
import { heldAdvisoryLocks, withClient } from './pooling-settings.ts'
import { startPostgres, type PostgresPart } from './postgres.ts'
import { portAccepts, waitForHttpOk } from './readiness.ts'
import { startRedis, type RedisPart } from './redis.ts'

export interface ScaleOutOptions {
  instances: number
  /** HAProxy's port; 0 = a free one. */
  port: number
  /** An existing database; unset = an embedded PostgreSQL. */
  databaseUrl?: string
  /** An existing Redis; unset = a redis-server started here. */
  redisUrl?: string
  /** Keeps the embedded PostgreSQL's data there; unset = a temporary directory, removed at stop. */
  dataDir?: string
  /** PgBouncer's server connections (default_pool_size). */
  poolSize?: number
  /** The instances' environment: their configuration (default process.env). */
  env?: NodeJS.ProcessEnv
  log?: (line: string) => void
}

export interface PartInfo {
  name: string
  port: number
  /** null: not started here (an external PostgreSQL or Redis). */
  pid: number | null
}

export interface ScaleOut {
  /** HAProxy's origin, e.g. http://127.0.0.1:8080 */
  origin: string
  graphqlUrl: string
  /** Every part with its current pid (PgBouncer's changes when it is restarted). */
  parts (): PartInfo[]
  directDatabaseUrl: string
  pooledDatabaseUrl: string
  redisUrl: string
  database: string
  instances: readonly InstancePart[]
  haproxy: HaproxyPart
  pgbouncer: PgBouncerPart
  /** Takes an instance out of the rotation, waits for its requests to finish, stops it. */
  drainInstance (name: string): Promise<void>
  /** Stops what was started here, top-down. Idempotent. */
  stop (): Promise<void>
}

export const scaleOutDefaults = Object.freeze({ instances: 2, poolSize: 20, instanceReadyTimeoutMs: 60_000, readyTimeoutMs: 15_000 })

const DRAIN_POLL_MS = 100
const DEFAULT_DEPLOYMENT_ID = 'scale-out'
/**
 * PgBouncer's server connections while the instances start. Each instance runs the migration
 * runner at start (nothing is pending: the migrations ran directly), and that runner holds a
 * session advisory lock from one statement to a later one, with the instance's other start-up
 * queries in between. Through transaction pooling each statement may get another server
 * connection, so the unlock can miss the lock, which then stays held and blocks the next
 * instance's start. With a single server connection every statement shares one session: the
 * lock is re-entrant there, and every unlock meets its lock.
 */
const STARTUP_POOL_SIZE = 1

export async function startScaleOut (options: ScaleOutOptions): Promise<ScaleOut> {
  const log = options.log ?? ((line: string) => process.stderr.write(`scale-out: ${line}\n`))
  const env = options.env ?? process.env
  // DEPLOYMENT_ID: where the configuration requires it with REDIS_URL, the default below.
  const config = loadConfig({ ...env, DEPLOYMENT_ID: env.DEPLOYMENT_ID ?? DEFAULT_DEPLOYMENT_ID })
  if (!Number.isSafeInteger(options.instances) || options.instances < 1) throw new RangeError(`instances must be a positive integer: ${options.instances}`)
  const needed: NativeProgram[] = ['pgbouncer', 'haproxy', ...(options.redisUrl === undefined ? ['redis-server' as const] : [])]
  const missing = describeMissing(needed)
  if (missing !== null) throw new Error(missing)
  const port = options.port === 0 ? await freePort() : options.port
  if (await portAccepts(port)) throw new Error(`port ${port} is in use: choose another with --port`)

  const runDir = await mkdtemp(join(tmpdir(), 'jotter-scale-out-'))
  let stopping = false
  // Processes stopped on purpose (a drained instance, a restarted PgBouncer): not news.
  const stoppedOnPurpose = new Set<number>()
  const watch = (process: ManagedProcess): void => {
    process.exited.then((status) => {
      if (!stopping && !stoppedOnPurpose.has(process.pid)) log(`${process.name} (pid ${process.pid}) exited: ${status.signal ?? `code ${status.code}`}`)
    })
  }
  const hooks = { log, watch }
  const started: Array<{ name: string, stop: () => Promise<void> }> = []
  const stopAll = async (): Promise<void> => {
    stopping = true
    for (const part of started.reverse()) {
      try {
        await part.stop()
      } catch (error) {
        log(`stopping ${part.name}: ${(error as Error).message}`)
      }
    }
    started.length = 0
    await rm(runDir, { recursive: true, force: true })
  }

  try {
    const postgres: PostgresPart = await startPostgres({ databaseUrl: options.databaseUrl, dataDir: options.dataDir ?? runDir, dbTimeoutMs: config.dbTimeoutMs, log })
    started.push(postgres)
    const poolSize = options.poolSize ?? scaleOutDefaults.poolSize
    const clientConnections = options.instances * config.dbPoolMax * config.workers
    const maxConnections = await withClient(postgres.directUrl, async (client) => Number((await client.query('show max_connections')).rows[0].max_connections))
    log(`connections: ${options.instances} instances × DB_POOL_MAX ${config.dbPoolMax}${config.workers > 1 ? ` × WORKERS ${config.workers}` : ''} = ${clientConnections} client connections to PgBouncer; ` +
      `PgBouncer opens at most ${poolSize} to PostgreSQL (max_connections ${maxConnections})`)
    if (poolSize >= maxConnections) log(`warning: PgBouncer's pool (${poolSize}) does not fit PostgreSQL's max_connections (${maxConnections})`)

    const pgbouncer = await startPgBouncer({
      listenPort: await freePort(),
      serverHost: postgres.host,
      serverPort: postgres.port,
      database: postgres.database,
      user: postgres.user,
      password: postgres.password,
      poolSize: STARTUP_POOL_SIZE,
      maxClientConnections: Math.max(100, clientConnections + 20),
      dbTimeoutMs: config.dbTimeoutMs,
      runDir
    }, hooks)
    started.push(pgbouncer)

    let redisUrl = options.redisUrl
    let redis: RedisPart | undefined
    if (redisUrl === undefined) {
      redis = await startRedis({ port: await freePort(), runDir }, hooks)
      started.push(redis)
      redisUrl = redis.url
    }

    const instanceEnv: NodeJS.ProcessEnv = {
      ...env,
      DATABASE_URL: pgbouncer.url,
      // A named prepared statement lives on one server connection; transaction pooling (this
      // PgBouncer predates 1.21's max_prepared_statements) hands the next one another.
      DB_PREPARED_STATEMENTS: 'false',
      // LISTEN holds a session: it cannot go through transaction pooling.
      DATABASE_LISTEN_URL: postgres.directUrl,
      REDIS_URL: redisUrl,
      // The instances share Redis entries with each other and with nothing else.
      DEPLOYMENT_ID: env.DEPLOYMENT_ID ?? `${DEFAULT_DEPLOYMENT_ID}-${postgres.database}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64),
      // Every instance must verify the tokens the others issue.
      JWT_SECRET: env.JWT_SECRET ?? randomBytes(32).toString('hex'),
      // The client address is HAProxy's X-Forwarded-For, one trusted hop.
      TRUST_PROXY: env.TRUST_PROXY ?? '1',
      WORKERS: env.WORKERS ?? '1',
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      DATA_DIR: runDir
    }
    const instances = await startInstances(options.instances, instanceEnv, config.shutdownGraceMs, hooks)
    started.push({ name: 'instances', stop: async () => { await Promise.all(instances.map((instance) => instance.stop())) } })
    const leftLocks = await heldAdvisoryLocks(postgres.directUrl)
    if (leftLocks > 0) throw new Error(`${leftLocks} session advisory lock(s) left held after the instances started (the migration lock through transaction pooling)`)
    await pgbouncer.setPoolSize(poolSize)
    log(`pgbouncer: default_pool_size raised from ${STARTUP_POOL_SIZE} to ${poolSize} now that every instance has started`)

    const haproxy = await startHaproxy({
      port,
      servers: instances.map((instance) => ({ name: instance.name, port: instance.port })),
      httpTimeoutMs: config.httpTimeoutMs,
      shutdownGraceMs: config.shutdownGraceMs,
      runDir
    }, hooks)
    started.push(haproxy)
    const origin = `http://127.0.0.1:${port}`
    await waitForHttpOk(`${origin}/health/ready`, haproxy.process, scaleOutDefaults.readyTimeoutMs)

    let stopped: Promise<void> | undefined
    return {
      origin,
      graphqlUrl: `${origin}/graphql`,
      parts: () => [
        { name: 'postgresql', port: postgres.port, pid: postgres.pid },
        { name: 'pgbouncer', port: pgbouncer.port, pid: pgbouncer.pid() },
        { name: 'redis', port: redis?.port ?? Number(new URL(redisUrl).port || 6379), pid: redis?.pid ?? null },
        ...instances.map((instance) => ({ name: instance.name, port: instance.port, pid: instance.pid })),
        { name: 'haproxy', port, pid: haproxy.pid }
      ],
      directDatabaseUrl: postgres.directUrl,
      pooledDatabaseUrl: pgbouncer.url,
      redisUrl,
      database: postgres.database,
      instances,
      haproxy,
      pgbouncer: {
        ...pgbouncer,
        async restart () {
          stoppedOnPurpose.add(pgbouncer.pid())
          await pgbouncer.restart()
        }
      },
      async drainInstance (name) {
        const instance = instances.find((candidate) => candidate.name === name)
        if (instance === undefined) throw new Error(`no instance named ${name}`)
        stoppedOnPurpose.add(instance.pid)
        await haproxy.setServerState(name, 'drain')
        for (;;) {
          const stats = (await haproxy.serverStats()).find((server) => server.name === name)
          if (stats === undefined || stats.current === 0) break
          await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS))
        }
        await instance.stop()
      },
      stop () {
        stopped ??= stopAll()
        return stopped
      }
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

// Private:

/** Starts them side by side; if one fails, the others are stopped before the error goes on. */
async function startInstances (count: number, env: NodeJS.ProcessEnv, shutdownGraceMs: number, hooks: PartHooks): Promise<InstancePart[]> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()))
  const outcomes = await Promise.allSettled(ports.map((port, i) => startInstance({
    name: `instance-${i + 1}`,
    port,
    env,
    shutdownGraceMs,
    readyTimeoutMs: scaleOutDefaults.instanceReadyTimeoutMs
  }, hooks)))
  const instances = outcomes.flatMap((outcome) => outcome.status === 'fulfilled' ? [outcome.value] : [])
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
  if (failure !== undefined) {
    await Promise.all(instances.map((instance) => instance.stop()))
    throw failure.reason
  }
  for (const instance of instances) hooks.log(`${instance.name} ready on port ${instance.port} (pid ${instance.pid})`)
  return instances
}
