/**
 * Builds the real app on a fresh test database; `gql` posts through `app.inject` and returns
 * what a client sees. Use `startTestApp` in `before`, `close` in `after`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.ts'
import { createTokenService } from '../../src/auth/tokens.ts'
import { configWith, type Config } from '../../src/config.ts'
import { createTestDatabase, type TestDatabase } from './database.ts'

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long'

export interface GraphQLResult {
  status: number
  headers: Record<string, string | string[] | number | undefined>
  body: { data?: any, errors?: Array<{ message: string, path?: unknown[], extensions?: { code?: string, [k: string]: unknown } }>, extensions?: Record<string, unknown> }
}

export interface TestApp {
  app: FastifyInstance
  database: TestDatabase
  config: Readonly<Config>
  gql (query: string, options?: { variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>, operationName?: string }): Promise<GraphQLResult>
  /** Signs a new user up; returns its id and token. */
  signUp (name: string, options?: { email?: string, password?: string }): Promise<{ id: string, token: string, email: string }>
  /** Makes a user admin in the database and returns a fresh admin token. */
  promoteToAdmin (id: string): Promise<string>
  close (): Promise<void>
}

let userCounter = 0

export async function startTestApp (overrides: Partial<Config> = {}, { database, logDestination }: { database?: TestDatabase, logDestination?: BuildOptions['logDestination'] } = {}): Promise<TestApp> {
  const testDatabase = database ?? await createTestDatabase({ dbTimeoutMs: overrides.dbTimeoutMs, poolMax: overrides.dbPoolMax })
  // Named after the test file (each runs in its own process), so a leftover says whose it is.
  // Made once the database is there: a database that cannot be made leaves no directory.
  const dataDir = mkdtempSync(join(tmpdir(), `jotter-test-data-${basename(process.argv[1] ?? 'app')}-`))
  const config = configWith({
    databaseUrl: testDatabase.url,
    jwtSecret: TEST_JWT_SECRET,
    logLevel: 'silent',
    seedDemoData: false,
    dataDir,
    ...overrides
  })
  let app: FastifyInstance
  try {
    app = await buildApp(config, { database: testDatabase, logDestination })
  } catch (error) {
    // A build that fails (a test of a bad setting) leaves nothing behind either.
    rmSync(dataDir, { recursive: true, force: true })
    if (database === undefined) await testDatabase.drop()
    throw error
  }
  // Caches are bypassed until the invalidation bus listens: tests that count hits wait for it.
  if (app.responseCache !== null && !await app.responseCache.bus.whenListening(10_000)) throw new Error('the cache invalidation bus did not listen within 10 s')

  const gql: TestApp['gql'] = async (query, { variables, token, headers = {}, operationName } = {}) => {
    const response = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      payload: JSON.stringify({ query, variables, operationName })
    })
    return { status: response.statusCode, headers: response.headers, body: response.json() }
  }

  return {
    app,
    database: testDatabase,
    config,
    gql,
    async signUp (name, { email = `user${++userCounter}-${process.pid}@example.test`, password = 'correct horse battery' } = {}) {
      const result = await gql('mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id } } }',
        { variables: { input: { name, email, password } } })
      if (!result.body.data?.signUp) throw new Error(`signUp failed: ${JSON.stringify(result.body)}`)
      return { id: result.body.data.signUp.user.id, token: result.body.data.signUp.token, email }
    },
    async promoteToAdmin (id) {
      await testDatabase.db.sql`update users set role = 'admin' where id = ${id}`
      return createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 3600 }).issue(id, 'admin')
    },
    async close () {
      await app.close()
      if (!database) await testDatabase.drop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
