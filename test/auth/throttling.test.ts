/**
 * The rate limits through the front door: failed sign-ins per account and per client address
 * (each executed `login` field one attempt, in a document or a batch), 429 RATE_LIMITED with
 * Retry-After, other accounts and clients unaffected, a success resetting the account; a
 * taken email at signUp counted for the client; the general request limit, off by default.
 * With TEST_REDIS_URL: two instances share the counts; a hung Redis does not hold sign-ins.
 */
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

const LOGIN = 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }'
const PASSWORD = 'the right password'

function login (t: TestApp, email: string, password: string, remoteAddress = '10.0.0.1'): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/graphql',
    remoteAddress,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ query: LOGIN, variables: { email, password } })
  })
}

function codeOf (response: LightMyRequestResponse): string | undefined {
  return response.json().errors?.[0]?.extensions?.code
}

/** 429 with Retry-After, and the catalogue's error: failed sign-ins `scope`, or (none) every request. */
function assertRateLimited (response: LightMyRequestResponse, scope?: 'for this account' | 'from this address'): void {
  const retryAfter = Number(response.headers['retry-after'])
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${response.headers['retry-after']}`)
  const answered = { status: response.statusCode, body: response.json() }
  if (scope === undefined) assertCatalogueError('REQUESTS_THROTTLED', answered, { seconds: retryAfter })
  else assertCatalogueError('LOGIN_THROTTLED', answered, { scope, seconds: retryAfter })
  assert.equal(response.statusCode, 429, response.body)
}

let database: TestDatabase
before(async () => { database = await createTestDatabase() })
after(() => database.drop())

describe('failed sign-ins per account', () => {
  let t: TestApp
  before(async () => {
    t = await startTestApp({ loginMaxFailuresPerAccount: 3, loginMaxFailuresPerClient: 100 }, { database })
    await t.signUp('Victim', { email: 'victim@example.test', password: PASSWORD })
    await t.signUp('Other', { email: 'other@example.test', password: PASSWORD })
  })
  after(() => t.close())

  test('3 failures are answered UNAUTHENTICATED; the 4th attempt, even with the right password, is 429', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await login(t, 'victim@example.test', 'wrong password', `10.0.1.${i}`)
      assert.equal(response.statusCode, 200)
      assert.equal(codeOf(response), 'UNAUTHENTICATED', `attempt ${i + 1}`)
    }
    assertRateLimited(await login(t, 'victim@example.test', PASSWORD, '10.0.1.9'), 'for this account')
    assertRateLimited(await login(t, 'VICTIM@example.test', PASSWORD, '10.0.1.9'), 'for this account')
  })

  test('another account is not affected', async () => {
    const response = await login(t, 'other@example.test', PASSWORD)
    assert.ok(response.json().data?.login?.token, response.body)
  })

  test('a successful sign-in resets the account count', async () => {
    await t.signUp('Reset', { email: 'reset@example.test', password: PASSWORD })
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) assert.equal(codeOf(await login(t, 'reset@example.test', 'wrong password')), 'UNAUTHENTICATED')
      const ok = await login(t, 'reset@example.test', PASSWORD)
      assert.ok(ok.json().data?.login?.token, `round ${round}: ${ok.body}`)
    }
  })

  test('aliased login fields count one attempt each', async () => {
    await t.signUp('Aliased', { email: 'aliased@example.test', password: PASSWORD })
    // Mutation fields run one after another, and a failed login (non-null) ends the document:
    // of these two aliases only the first executes, and only it is counted.
    const twoAliases = 'mutation { a: login(email: "aliased@example.test", password: "wrong one") { token } b: login(email: "aliased@example.test", password: "wrong two") { token } }'
    const response = await t.app.inject({ method: 'POST', url: '/graphql', remoteAddress: '10.0.2.1', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: twoAliases }) })
    assert.equal(codeOf(response), 'UNAUTHENTICATED')
    // One executed attempt so far (the document stopped at the first failure): two more fail, the next is refused.
    assert.equal(codeOf(await login(t, 'aliased@example.test', 'wrong password')), 'UNAUTHENTICATED')
    assert.equal(codeOf(await login(t, 'aliased@example.test', 'wrong password')), 'UNAUTHENTICATED')
    assertRateLimited(await login(t, 'aliased@example.test', PASSWORD), 'for this account')
  })
})

describe('failed sign-ins per client address, and batches', () => {
  let t: TestApp
  before(async () => {
    t = await startTestApp({ loginMaxFailuresPerAccount: 100, loginMaxFailuresPerClient: 4, batchedQueries: true }, { database })
  })
  after(() => t.close())

  test('4 failures (any emails) from one address; the 5th is 429; another address is not affected', async () => {
    for (let i = 0; i < 4; i++) assert.equal(codeOf(await login(t, `nobody${i}@example.test`, 'wrong password', '10.1.0.1')), 'UNAUTHENTICATED')
    assertRateLimited(await login(t, 'nobody-else@example.test', 'wrong password', '10.1.0.1'), 'from this address')
    assert.equal(codeOf(await login(t, 'nobody-else@example.test', 'wrong password', '10.1.0.2')), 'UNAUTHENTICATED')
  })

  test('each operation of a batch is one attempt: a batch of 6 from a fresh address gets 4 answers and 2 refusals', async () => {
    const batch = Array.from({ length: 6 }, (_, i) => ({ query: LOGIN, variables: { email: `batch${i}@example.test`, password: 'wrong password' } }))
    const response = await t.app.inject({ method: 'POST', url: '/graphql', remoteAddress: '10.1.0.3', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(batch) })
    const codes = (response.json() as Array<{ errors: Array<{ extensions: { code: string } }> }>).map((item) => item.errors[0].extensions.code)
    assert.deepEqual(codes.sort(), ['RATE_LIMITED', 'RATE_LIMITED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED'])
  })

  test('signUp with a taken email counts as a failure of the address; a free email does not', async () => {
    const signUp = (email: string, remoteAddress: string) => t.app.inject({
      method: 'POST',
      url: '/graphql',
      remoteAddress,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ query: 'mutation ($input: SignUpInput!) { signUp(input: $input) { token } }', variables: { input: { name: 'S', email, password: PASSWORD } } })
    })
    for (let i = 0; i < 6; i++) assert.ok((await signUp(`fresh${i}@example.test`, '10.1.0.4')).json().data?.signUp, 'free emails are not failures')
    for (let i = 0; i < 4; i++) assert.equal(codeOf(await signUp('fresh0@example.test', '10.1.0.4')), 'BAD_USER_INPUT')
    assertRateLimited(await signUp('fresh1@example.test', '10.1.0.4'), 'from this address')
    assertRateLimited(await login(t, 'fresh1@example.test', PASSWORD, '10.1.0.4'), 'from this address')
  })
})

describe('limits set to 0 are off', () => {
  test('LOGIN_MAX_FAILURES_PER_ACCOUNT=0 and _PER_CLIENT=0: 12 failures, then the right password works', async () => {
    const t = await startTestApp({ loginMaxFailuresPerAccount: 0, loginMaxFailuresPerClient: 0 }, { database })
    try {
      await t.signUp('Off', { email: 'off@example.test', password: PASSWORD })
      for (let i = 0; i < 12; i++) assert.equal(codeOf(await login(t, 'off@example.test', 'wrong password')), 'UNAUTHENTICATED')
      assert.ok((await login(t, 'off@example.test', PASSWORD)).json().data?.login?.token)
    } finally {
      await t.close()
    }
  })
})

describe('the general request limit (RATE_LIMIT_MAX_REQUESTS)', () => {
  const query = (t: TestApp, remoteAddress: string, url = '/graphql?query=%7B__typename%7D') => t.app.inject({ method: 'GET', url, remoteAddress })

  test('off by default: 200 requests from one address all answer 200', async () => {
    const t = await startTestApp({}, { database })
    try {
      assert.equal(t.config.rateLimitMaxRequests, 0)
      for (let i = 0; i < 200; i++) assert.equal((await query(t, '10.2.0.1')).statusCode, 200)
    } finally {
      await t.close()
    }
  })

  test('on: 5 requests pass, the 6th is 429 RATE_LIMITED with Retry-After; other addresses and the probes still pass', async () => {
    const t = await startTestApp({ rateLimitMaxRequests: 5, rateLimitWindowMs: 60_000 }, { database })
    try {
      for (let i = 0; i < 5; i++) assert.equal((await query(t, '10.2.0.2')).statusCode, 200, `request ${i + 1}`)
      const refused = await query(t, '10.2.0.2')
      assertRateLimited(refused)
      assert.ok(Number(refused.headers['retry-after']) <= 60)
      assert.equal((await query(t, '10.2.0.3')).statusCode, 200)
      assert.equal((await query(t, '10.2.0.2', '/health/live')).statusCode, 200)
      assert.equal((await query(t, '10.2.0.2', '/metrics')).statusCode, 200)
    } finally {
      await t.close()
    }
  })

  test('TRUST_PROXY=1: the address is X-Forwarded-For\'s; without it, the header is ignored', async () => {
    const forwarded = (t: TestApp, client: string) => t.app.inject({ method: 'GET', url: '/graphql?query=%7B__typename%7D', remoteAddress: '10.2.0.9', headers: { 'x-forwarded-for': client } })
    const trusting = await startTestApp({ rateLimitMaxRequests: 2, trustProxy: 1 }, { database })
    const plain = await startTestApp({ rateLimitMaxRequests: 2 }, { database })
    try {
      for (let i = 0; i < 4; i++) assert.equal((await forwarded(trusting, `192.0.2.${i}`)).statusCode, 200, 'each forwarded client has its own count')
      for (let i = 0; i < 2; i++) assert.equal((await forwarded(plain, `192.0.2.${i}`)).statusCode, 200)
      assert.equal((await forwarded(plain, '192.0.2.7')).statusCode, 429, 'untrusted header: one client, the proxy')
    } finally {
      await trusting.close()
      await plain.close()
    }
  })
})

const redisUrl = process.env.TEST_REDIS_URL
describe('with Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set' }, () => {
  test('two instances share the account count', async () => {
    const email = `shared-${process.pid}-${Date.now()}@example.test`
    // Redis is what this test is about: a pause of the machine must not time a count out.
    const settings = { redisUrl, redisCommandTimeoutMs: 5000, deploymentId: database.name, loginMaxFailuresPerAccount: 2 }
    const first = await startTestApp(settings, { database })
    const second = await startTestApp(settings, { database })
    try {
      assert.equal(codeOf(await login(first, email, 'wrong password')), 'UNAUTHENTICATED')
      assert.equal(codeOf(await login(second, email, 'wrong password')), 'UNAUTHENTICATED')
      assertRateLimited(await login(first, email, 'wrong password'), 'for this account')
      assertRateLimited(await login(second, email, 'wrong password'), 'for this account')
    } finally {
      await first.close()
      await second.close()
    }
  })
})

describe('a hung Redis (accepts connections, never answers)', () => {
  let server: Server
  const sockets = new Set<Socket>()
  before(async () => {
    server = createServer((socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  test('sign-ins and queries still answer, within a bounded time, and the limits still hold in the process', async () => {
    const { port } = server.address() as { port: number }
    const t = await startTestApp({ redisUrl: `redis://127.0.0.1:${port}`, redisCommandTimeoutMs: 50, deploymentId: database.name, loginMaxFailuresPerAccount: 2 }, { database })
    try {
      await t.signUp('Hung', { email: 'hung@example.test', password: PASSWORD })
      const started = performance.now()
      assert.equal(codeOf(await login(t, 'hung@example.test', 'wrong password')), 'UNAUTHENTICATED')
      assert.equal(codeOf(await login(t, 'hung@example.test', 'wrong password')), 'UNAUTHENTICATED')
      assertRateLimited(await login(t, 'hung@example.test', PASSWORD), 'for this account')
      const query = await t.gql('{ notes { id } }')
      assert.equal(query.status, 200, JSON.stringify(query.body))
      // Not a speed assertion: a hang would be the HTTP budget (30 s); this is far below it.
      assert.ok(performance.now() - started < 15_000, 'nothing waited on the hung server')
      assert.ok(sockets.size > 0, 'the app did connect to the hung server')
    } finally {
      await t.close()
    }
  })
})
