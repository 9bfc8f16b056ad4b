/**
 * `npm run bench:cache`: what the response cache buys, measured in one run.
 *
 *  1. Hit path vs the floor: requests/s of a cache hit on a seed-mix query (`userList`, real
 *     HTTP, closed loop with undici) against a bare node:http server answering the same bytes.
 *     Target: the hit path reaches ≥ 50 % of the bare server.
 *  2. The default read mix (bench/load/request-mix.ts) over 200 users, each with their own token:
 *     after a warm-up, the response-cache hit rate and the share of requests answered without any
 *     SQL (EXPOSE_SQL_COUNT: a hit reports 0 statements).
 *  3. V8 heap bytes allocated per request on the hit path and on the miss path, counted by a
 *     Jotter started as its own process on the same database (bench/allocation.ts says why not
 *     in this process), and beneath them the floor: a bare node:http server and a bare Fastify
 *     route answering the hit's request with its bytes (bench/allocation-floor.ts). Target:
 *     ≤ 4 KB per hit.
 *
 * Options: --warmup-seconds N (default 20; the README's figure uses 300), --seconds N (measured
 * window, default 10), --connections N (default 16). PostgreSQL: DATABASE_URL or
 * TEST_DATABASE_URL (a fresh database is created and dropped), else an embedded one.
 */
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { buildApp } from '../src/app.ts'
import { createTokenService } from '../src/auth/tokens.ts'
import { configWith } from '../src/config.ts'
import { measureAllocation, seedMixPaths } from './allocation.ts'
import { answerHeaders, floorKinds, measureAllocationFloor } from './allocation-floor.ts'
import { BENCH_JWT_SECRET, startJotterProcess } from './bench-server.ts'
import { openBenchDatabase } from './database-server.ts'
import { defaultMixEntries } from './load/request-mix.ts'

const { values: args } = parseArgs({ options: { 'warmup-seconds': { type: 'string', default: '20' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '16' } } })
const warmupSeconds = Number(args['warmup-seconds'])
const seconds = Number(args.seconds)
const connections = Number(args.connections)
const USERS = 200
const NOTES_PER_USER = 5
// The bench servers' secret: the tokens issued here are valid on the process of section 3.
const JWT_SECRET = BENCH_JWT_SECRET

const database = await openBenchDatabase('bench:cache', { poolMax: 10 })
const config = configWith({ databaseUrl: database.url, jwtSecret: JWT_SECRET, logLevel: 'warn', seedDemoData: false, exposeSqlCount: true, shedMaxEventLoopDelayMs: 0 })
const app = await buildApp(config, { database })
await app.listen({ port: 0, host: '127.0.0.1' })
const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

// Fixtures straight into the database: the benchmark measures reads, not argon2.
const sql = database.db.sql
const userRows = await sql<{ id: string }>`
  insert into users (name, email, password_hash)
  select 'bench user ' || i, 'bench-' || i || '@jotter.test', 'not-a-hash' from generate_series(1, ${USERS}) as i returning id::text as id`
const userIds = userRows.map((row) => row.id)
const noteRows = await sql<{ id: string }>`
  insert into notes (author_id, title, body, visibility)
  select u.id, 'note ' || n, 'body', case when n % 2 = 0 then 'PUBLIC' else 'PRIVATE' end
  from users u, generate_series(1, ${NOTES_PER_USER}) as n returning id::text as id`
const noteIds = noteRows.map((row) => row.id)
const tokens = createTokenService({ secret: JWT_SECRET, ttlSeconds: 3600 })
const userTokens = await Promise.all(userIds.map((id) => tokens.issue(id, 'user')))

// 1. Hit path vs a bare server answering the same bytes.
const hitBody = JSON.stringify({ query: defaultMixEntries[0].query, operationName: 'userList' })
const hitHeaders = { 'content-type': 'application/json', authorization: `Bearer ${userTokens[0]}` }
const sample = await fetch(`${origin}/graphql`, { method: 'POST', headers: hitHeaders, body: hitBody })
const hitBytes = Buffer.from(await sample.text())
const hitAnswer = { body: hitBytes.toString('utf8'), headers: answerHeaders(sample.headers) }
const bare = createServer((request, response) => {
  request.resume()
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': hitBytes.length }).end(hitBytes))
})
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
const bareOrigin = `http://127.0.0.1:${(bare.address() as { port: number }).port}`

const bareRate = await closedLoop(bareOrigin, seconds / 2, () => ({ body: hitBody, headers: hitHeaders }))
const hitRate = await closedLoop(origin, seconds / 2, () => ({ body: hitBody, headers: hitHeaders }))
bare.close()

// 2. The seed mix over 200 users.
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]
const mixTotal = defaultMixEntries.reduce((sum, entry) => sum + entry.weight, 0)
function mixRequest (): { body: string, headers: Record<string, string> } {
  let roll = Math.random() * mixTotal
  const entry = defaultMixEntries.find((e) => (roll -= e.weight) < 0) ?? defaultMixEntries[0]
  const variables = entry.variables ? { id: entry.variables.id === '$noteId' ? pick(noteIds) : pick(userIds) } : undefined
  return { body: JSON.stringify({ query: entry.query, variables, operationName: entry.name }), headers: { 'content-type': 'application/json', authorization: `Bearer ${pick(userTokens)}` } }
}
await closedLoop(origin, warmupSeconds, mixRequest)
const hitsBefore = await counterTotal('jotter_cache_hits_total')
const missesBefore = await counterTotal('jotter_cache_misses_total')
const mix = await closedLoop(origin, seconds, mixRequest)
const hits = await counterTotal('jotter_cache_hits_total') - hitsBefore
const misses = await counterTotal('jotter_cache_misses_total') - missesBefore

// 3. Allocation per request: first the floor (bare node:http, bare Fastify answering the hit's
// bytes), then a separate Jotter process over the same data.
const allocation: Record<string, { bytesPerRequest: number | null, requests: number, errors: number, gcPauses: number | null }> = {}
const fixtures = { users: userIds.map((id, index) => ({ id, token: userTokens[index] })), userIds, noteIds }
for (const kind of floorKinds) {
  const { path, bytesPerRequest, requests, errors, gcPauses } = await measureAllocationFloor(kind, seedMixPaths(fixtures)[0], hitAnswer)
  allocation[path] = { bytesPerRequest, requests, errors, gcPauses }
}
const separate = await startJotterProcess({ databaseUrl: database.url })
try {
  for (const path of seedMixPaths(fixtures)) {
    const { bytesPerRequest, requests, errors, gcPauses } = await measureAllocation(path, { url: separate.url, metricsUrl: separate.metricsUrl })
    allocation[path.name] = { bytesPerRequest, requests, errors, gcPauses }
  }
} finally {
  await separate.stop()
}

const report = {
  allocationPerRequest: { ...allocation, target: 'cache hit <= 4096 bytes' },
  hitPath: { cacheHitRequestsPerSecond: round(hitRate.perSecond), bareNodeHttpRequestsPerSecond: round(bareRate.perSecond), ratio: round(hitRate.perSecond / bareRate.perSecond, 3), target: '>= 0.5' },
  seedMix: { users: USERS, warmupSeconds, measuredSeconds: seconds, requests: mix.requests, requestsPerSecond: round(mix.perSecond), hitRate: round(hits / Math.max(1, hits + misses), 3), answeredWithoutSql: round(mix.withoutSql / Math.max(1, mix.requests), 3), errors: mix.errors, target: 'hitRate > 0.5' }
}
console.log(JSON.stringify(report, null, 2))
await app.close()
await database.drop()

// Private:

async function closedLoop (base: string, durationSeconds: number, next: () => { body: string, headers: Record<string, string> }) {
  const pool = new Pool(base, { connections, pipelining: 1 })
  const end = Date.now() + durationSeconds * 1000
  let requests = 0
  let errors = 0
  let withoutSql = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: connections }, async () => {
    while (Date.now() < end) {
      const { body, headers } = next()
      const response = await pool.request({ path: '/graphql', method: 'POST', headers, body })
      const text = await response.body.text()
      requests++
      if (response.statusCode !== 200) errors++
      else if (text.endsWith('"sqlStatements":0}}') || !text.includes('sqlStatements')) withoutSql++
    }
  }))
  const elapsed = (performance.now() - started) / 1000
  await pool.close()
  return { requests, errors, withoutSql, perSecond: requests / elapsed }
}

async function counterTotal (name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text()
  let total = 0
  for (const line of text.split('\n')) if (line.startsWith(name)) total += Number(line.split(' ').pop())
  return total
}

function round (value: number, digits = 0): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
