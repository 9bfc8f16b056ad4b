/**
 * `npm run bench:loaders [-- --requests 40 --concurrency 4 --warmup 5]` (a benchmark, not a test)
 *
 * The nested query `users(first: 100) { notes(first: 20) { tags { name } author { name } } }`
 * over 100 users × 20 notes, against two builds of the same schema on the same database:
 * the app with its per-request loaders, and the app with the child fields overridden by
 * per-parent resolvers (bench/naive-resolvers.ts). Both run over real HTTP on 127.0.0.1.
 * Reports SQL statements per request (extensions.sqlStatements) and request latency p50/p99,
 * sequential and with `--concurrency` requests in flight, and the naive/loaders ratios, as a
 * Markdown table, from one run. Judge the ratios: the machine is shared and noisy.
 *
 * The database: a fresh one created on TEST_DATABASE_URL or DATABASE_URL's server and
 * dropped at the end, or, with neither set, a throwaway embedded PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { buildApp } from '../src/app.ts'
import { createTokenService } from '../src/auth/tokens.ts'
import { configWith } from '../src/config.ts'
import type { OpenedThrowawayDatabase } from '../tools/throwaway-database.ts'
import { seedGraph } from '../tools/seed-graph.ts'
import { exitWith, positiveInteger } from './cli-flags.ts'
import { openBenchDatabase } from './database-server.ts'
import { naiveResolvers } from './naive-resolvers.ts'

const QUERY = '{ users(first: 100) { id notes(first: 20) { id tags { name } author { name } } } }'
const SECRET = 'bench-secret-that-is-at-least-32-characters-long'

interface Build { name: string, url: string, app: FastifyInstance, dataDir: string }
interface Phase { p50: number, p99: number, perSecond: number }
interface Row { build: string, statements: number, sequential: Phase, concurrent: Phase }

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '40' }, concurrency: { type: 'string', default: '4' }, warmup: { type: 'string', default: '5' } }
  })
  const requests = positiveInteger('--requests', values.requests!)
  const concurrency = positiveInteger('--concurrency', values.concurrency!)
  const warmup = positiveInteger('--warmup', values.warmup!)

  const database = await openBenchDatabase('bench:loaders', { poolMax: 10 })
  const builds: Build[] = []
  try {
    const graph = await seedGraph(database.db.sql, { users: 100, notesPerUser: 20, heavyUserExtraNotes: 0, tagPool: 20 })
    await database.db.sql`update users set role = 'admin' where id = ${graph.userIds[0]}`
    // An admin sees every note: each user's page holds all 20 notes.
    const token = await createTokenService({ secret: SECRET, ttlSeconds: 3600 }).issue(graph.userIds[0], 'admin')

    builds.push(await startBuild('loaders', database, () => {}))
    builds.push(await startBuild('naive', database, (app) => app.graphql.defineResolvers(naiveResolvers as never)))

    const answers = await Promise.all(builds.map((build) => post(build, token)))
    for (const answer of answers) {
      if (answer.body.errors) throw new Error(`the query failed: ${JSON.stringify(answer.body.errors)}`)
    }
    if (JSON.stringify(answers[0].body.data) !== JSON.stringify(answers[1].body.data)) throw new Error('the two builds answer differently')
    const notes = (answers[0].body.data as { users: Array<{ notes: unknown[] }> }).users.reduce((sum, user) => sum + user.notes.length, 0)
    process.stdout.write(`bench:loaders: ${QUERY}\n${notes} notes in the answer; ${requests} requests per phase, concurrency ${concurrency}, warm-up ${warmup}; node ${process.version}\n\n`)

    for (const build of builds) await runRequests(build, token, warmup, 1)
    const rows: Row[] = builds.map((build, i) => ({ build: build.name, statements: answers[i].statements, sequential: zeroPhase(), concurrent: zeroPhase() }))
    // Phases alternate between the builds so that a noisy minute hurts both alike.
    for (const [i, build] of builds.entries()) rows[i].sequential = await runRequests(build, token, requests, 1)
    for (const [i, build] of builds.entries()) rows[i].concurrent = await runRequests(build, token, requests, concurrency)
    process.stdout.write(formatTable(rows, concurrency))
  } finally {
    for (const build of builds) {
      await build.app.close()
      await rm(build.dataDir, { recursive: true, force: true })
    }
    await database.drop()
  }
}

// Private:

async function startBuild (name: string, database: OpenedThrowawayDatabase, customize: (app: FastifyInstance) => void): Promise<Build> {
  const config = configWith({
    databaseUrl: database.url,
    jwtSecret: SECRET,
    logLevel: 'silent',
    seedDemoData: false,
    exposeSqlCount: true,
    cacheEnabled: false,
    dataDir: await mkdtemp(join(tmpdir(), 'jotter-bench-')),
    maxCost: 100_000_000,
    maxDepth: 100,
    shedMaxEventLoopDelayMs: 0
  })
  const app = await buildApp(config, { database })
  customize(app)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { name, url, app, dataDir: config.dataDir }
}

async function post (build: Build, token: string): Promise<{ ms: number, statements: number, body: { data?: unknown, errors?: unknown, extensions?: { sqlStatements?: number } } }> {
  const started = performance.now()
  const response = await request(`${build.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY })
  })
  const body = await response.body.json() as { data?: unknown, errors?: unknown, extensions?: { sqlStatements?: number } }
  const ms = performance.now() - started
  if (response.statusCode !== 200) throw new Error(`${build.name}: HTTP ${response.statusCode}: ${JSON.stringify(body).slice(0, 300)}`)
  return { ms, statements: body.extensions?.sqlStatements ?? NaN, body }
}

/** `count` requests, at most `concurrency` in flight; latencies in ms. */
async function runRequests (build: Build, token: string, count: number, concurrency: number): Promise<Phase> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      next++
      latencies.push((await post(build, token)).ms)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  // Exact percentiles from the sorted samples: a few hundred values need no histogram.
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]
  return { p50: at(0.5), p99: at(0.99), perSecond: count / seconds }
}

function formatTable (rows: Row[], concurrency: number): string {
  const [loaders, naive] = rows
  const ms = (value: number): string => value.toFixed(1)
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(a / b < 1 ? 2 : 1)}×`
  const lines = [
    `| build | SQL statements / request | sequential p50 ms | sequential p99 ms | concurrency ${concurrency} p50 ms | concurrency ${concurrency} p99 ms | concurrency ${concurrency} req/s |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.build} | ${r.statements} | ${ms(r.sequential.p50)} | ${ms(r.sequential.p99)} | ${ms(r.concurrent.p50)} | ${ms(r.concurrent.p99)} | ${r.concurrent.perSecond.toFixed(1)} |`),
    `| naive / loaders | ${ratio(naive.statements, loaders.statements)} | ${ratio(naive.sequential.p50, loaders.sequential.p50)} | ${ratio(naive.sequential.p99, loaders.sequential.p99)} | ` +
      `${ratio(naive.concurrent.p50, loaders.concurrent.p50)} | ${ratio(naive.concurrent.p99, loaders.concurrent.p99)} | ${ratio(naive.concurrent.perSecond, loaders.concurrent.perSecond)} |`
  ]
  return `${lines.join('\n')}\n`
}

function zeroPhase (): Phase {
  return { p50: 0, p99: 0, perSecond: 0 }
}

exitWith('bench:loaders', main().then(() => 0))
