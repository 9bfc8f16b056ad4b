/**
 * WORKERS=2 without Redis: a mutation handled by one worker drops the cached responses of the
 * other worker before its own response leaves (the primary relays the invalidation), so no
 * read after it is stale, whichever worker answers it.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { after, before, test } from 'node:test'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { freePort } from '../../scripts/free-port.ts'

let database: TestDatabase
let server: { child: ChildProcess, url: string, exited: Promise<unknown> } | undefined
let baseUrl = ''
before(async () => {
  database = await createTestDatabase()
  server = await startCluster(database.url)
})
after(async () => {
  server?.child.kill('SIGTERM')
  await server?.exited
  await database.drop()
})

test('no stale read from any worker after a mutation', async () => {
  const signUp = await gql('mutation { signUp(input: { name: "Ann", email: "ann@cluster.test", password: "long enough" }) { token } }')
  const token = signUp.data.signUp.token as string
  const created = await gql('mutation { createNote(input: { title: "v0", visibility: PUBLIC }) { id } }', token)
  const id = created.data.createNote.id as string
  for (let version = 1; version <= 3; version++) {
    // Fresh connections spread over both workers, and both now hold the response in cache.
    for (let i = 0; i < 12; i++) {
      const body = await read()
      assert.equal(body.data.notes[0].title, `v${version - 1}`)
    }
    await gql(`mutation { updateNote(id: "${id}", input: { title: "v${version}" }) { id } }`, token)
    for (let i = 0; i < 12; i++) {
      const body = await read()
      assert.equal(body.data.notes[0].title, `v${version}`, `stale read after update ${version}`)
    }
  }
})

// Private:

/** A new connection each time (no keep-alive agent): the cluster hands connections to its workers in turn. */
async function read (): Promise<any> {
  return JSON.parse(await freshRequest('POST', '/graphql', JSON.stringify({ query: '{ notes { id title } }' })))
}

function freshRequest (method: 'GET' | 'POST', path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server?.url ?? baseUrl}${path}`, { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => response.statusCode === 200 ? resolve(text) : reject(new Error(`${path}: ${response.statusCode}`)))
    })
    request.on('error', reject)
    request.end(body)
  })
}

async function gql (query: string, token?: string): Promise<any> {
  const response = await fetch(`${server!.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query })
  })
  const body = await response.json() as { errors?: unknown }
  assert.equal(body.errors, undefined, JSON.stringify(body.errors))
  return body
}

async function startCluster (databaseUrl: string): Promise<NonNullable<typeof server>> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'false',
      WORKERS: '2',
      REDIS_URL: ''
    },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const url = `http://127.0.0.1:${port}`
  // Both workers must be up: liveness answered by two pids, then readiness twice in a row
  // (one request per connection, and the cluster alternates connections between workers).
  baseUrl = url
  const ready = new Set<number>()
  for (let i = 0; i < 900 && ready.size < 2; i++) {
    try {
      ready.add((JSON.parse(await freshRequest('GET', '/health/live')) as { pid: number }).pid)
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (let i = 0, inARow = 0; i < 600 && inARow < 2; i++) {
    inARow = await freshRequest('GET', '/health/ready').then(() => inARow + 1, () => 0)
    if (inARow < 2) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (ready.size < 2) {
    child.kill('SIGKILL')
    throw new Error('the two workers did not become ready')
  }
  return { child, url, exited }
}
