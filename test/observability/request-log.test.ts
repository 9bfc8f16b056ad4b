/**
 * One JSON line per request with the request id, operation, status, duration, cache status,
 * SQL count and viewer id; never a token, password or email. The app writes its log to a
 * stream this test holds.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { configWith } from '../../src/config.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

const lines: Array<Record<string, any>> = []
const warnings: Error[] = []
let app: FastifyInstance
let database: TestDatabase
const dataDir = mkdtempSync(join(tmpdir(), 'jotter-test-data-'))

before(async () => {
  process.on('warning', (warning) => warnings.push(warning))
  database = await createTestDatabase()
  const config = configWith({
    databaseUrl: database.url,
    jwtSecret: TEST_JWT_SECRET,
    logLevel: 'info',
    seedDemoData: false,
    dataDir
  })
  app = await buildApp(config, { database, logDestination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
})
after(async () => {
  await app.close()
  await database.drop()
  rmSync(dataDir, { recursive: true, force: true })
})

async function post (query: string, { variables, token, requestId }: { variables?: object, token?: string, requestId?: string } = {}) {
  return app.inject({
    method: 'POST',
    url: '/graphql',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(requestId !== undefined ? { 'x-request-id': requestId } : {})
    },
    payload: JSON.stringify({ query, variables })
  })
}

/** The request lines (other lines, e.g. a logged error, carry the request id too). */
function requestLines (): Array<Record<string, any>> {
  return lines.filter((line) => line.msg === 'request completed')
}

function linesOf (requestId: string): Array<Record<string, any>> {
  return requestLines().filter((line) => line.reqId === requestId)
}

test('a request is one line: id, operation, status, duration, SQL count, viewer id', async () => {
  const email = 'logged.user@example.test'
  const password = 'a password nobody may read'
  const signUp = await post('mutation SignMeUp($input: SignUpInput!) { signUp(input: $input) { token user { id } } }',
    { variables: { input: { name: 'Logged', email, password } } })
  const { token, user } = signUp.json().data.signUp
  const login = await post('mutation LogMeIn($email: String!, $password: String!) { login(email: $email, password: $password) { token } }',
    { variables: { email, password } })
  const secondToken = login.json().data.login.token
  const me = await post('query Me { me { id email } }', { token, requestId: 'trace-me.1' })
  assert.equal(me.json().data.me.email, email)
  await post('mutation { login(email: "logged.user@example.test", password: "wrong password") { token } }')

  assert.equal(me.headers['x-request-id'], 'trace-me.1')
  const [line, ...more] = linesOf('trace-me.1')
  assert.deepEqual(more, [], 'exactly one line for the request')
  assert.equal(line.level, 30)
  assert.equal(line.method, 'POST')
  assert.equal(line.route, '/graphql')
  assert.equal(line.statusCode, 200)
  assert.equal(typeof line.durationMs, 'number')
  assert.deepEqual(line.operations, [{ type: 'query', name: 'Me' }])
  assert.equal(line.viewerId, user.id)
  assert.ok(line.sqlStatements >= 1, `SQL statements counted: ${line.sqlStatements}`)

  const signUpLine = linesOf(String(signUp.headers['x-request-id']))
  assert.equal(signUpLine.length, 1)
  assert.deepEqual(signUpLine[0].operations, [{ type: 'mutation', name: 'SignMeUp' }])
  assert.equal(signUpLine[0].viewerId, undefined, 'signing up is done anonymously')

  const output = JSON.stringify(lines)
  for (const secret of [email, password, token, secondToken, 'wrong password']) {
    assert.ok(!output.includes(secret), `the log never holds ${secret.slice(0, 12)}…`)
  }
})

test('every request gets exactly one line, health checks and 404s included', async () => {
  const before = requestLines().length
  const responses = [
    await app.inject({ url: '/health/live' }),
    await app.inject({ url: '/nowhere?token=abc' }),
    await post('{ __typename }')
  ]
  const written = requestLines().slice(before)
  assert.deepEqual(written.map((line) => line.reqId), responses.map((response) => response.headers['x-request-id']))
  assert.deepEqual(written.map((line) => line.statusCode), [200, 404, 200])
  assert.equal(written[1].path, '/nowhere', 'the query string is not logged')
  assert.equal(written[1].route, 'unmatched')
})

test('the line says whether the response cache answered, and a hit ran no SQL', async () => {
  const query = 'query PublicNotes { notes(first: 5) { id title } }'
  const first = linesOf(String((await post(query)).headers['x-request-id']))[0]
  const second = linesOf(String((await post(query)).headers['x-request-id']))[0]
  assert.equal(first.cache, 'miss')
  assert.ok(first.sqlStatements >= 1)
  assert.equal(second.cache, 'hit')
  assert.equal(second.sqlStatements, 0)
})

test('x-request-id: a sane id is honoured (128 characters at most), anything else is replaced', async () => {
  const longest = 'a'.repeat(128)
  assert.equal((await post('{ __typename }', { requestId: longest })).headers['x-request-id'], longest)
  assert.equal((await post('{ __typename }', { requestId: 'A-z_0.9' })).headers['x-request-id'], 'A-z_0.9')
  for (const bad of ['a'.repeat(129), 'has space', 'semi;colon', 'new\\nline', '']) {
    const echoed = String((await post('{ __typename }', { requestId: bad })).headers['x-request-id'])
    assert.notEqual(echoed, bad)
    assert.match(echoed, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `generated for ${JSON.stringify(bad)}`)
    assert.equal(linesOf(echoed).length, 1)
  }
  const generated = await post('{ __typename }')
  assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/)
})

test('no Fastify deprecation warning is emitted by building the app', () => {
  const deprecations = warnings.filter((warning) => String((warning as { code?: string }).code ?? '').startsWith('FSTDEP'))
  assert.deepEqual(deprecations.map((warning) => warning.message), [])
})
