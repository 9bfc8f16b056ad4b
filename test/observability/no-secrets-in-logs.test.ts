/**
 * No password, token or secret in any log line: a whole app run at trace level (demo data
 * seeded, sign-ups, good and bad sign-ins, a throttled one, errors) is captured, and the known
 * passwords, tokens and the JWT secret are searched for in every line. The redaction itself
 * is checked on nested objects and arrays.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { buildApp } from '../../src/app.ts'
import { configWith } from '../../src/config.ts'
import { demoLogins } from '../../src/db/demo-data.ts'
import { CENSOR, redactSecrets } from '../../src/observability/logger.ts'
import { createTestDatabase } from '../helpers/database.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'

test('a whole run logs no password, token or secret', async () => {
  const lines: string[] = []
  const logDestination = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const database = await createTestDatabase()
  const dataDir = mkdtempSync(join(tmpdir(), 'jotter-logs-'))
  const config = configWith({ databaseUrl: database.url, jwtSecret: TEST_JWT_SECRET, logLevel: 'trace', seedDemoData: true, dataDir, loginMaxFailuresPerAccount: 2 })
  const app = await buildApp(config, { database, logDestination })
  const tokens: string[] = []
  try {
    const send = async (query: string, variables?: unknown, token?: string) => {
      const response = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, payload: JSON.stringify({ query, variables }) })
      return response.json()
    }
    const signUp = await send('mutation ($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { name: 'Logged', email: 'logged@example.test', password: 'sign-up-password-77' } })
    tokens.push(signUp.data.signUp.token)
    const login = 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }'
    for (const { email, password } of demoLogins) tokens.push((await send(login, { e: email, p: password })).data.login.token)
    for (let i = 0; i < 3; i++) await send(login, { e: 'logged@example.test', p: `wrong-password-${i}-88` })
    await send('{ me { id } }', undefined, tokens[0])
    await send('{ me { id } }', undefined, 'Bearer-garbage-token-99')
    await app.inject({ method: 'GET', url: `/graphql?query=${encodeURIComponent('mutation { login(email: "a@b.test", password: "get-password-66") { token } }')}` })
  } finally {
    await app.close()
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  assert.ok(lines.length >= 10 && lines.some((line) => line.includes('request completed')), `a real run was captured: ${lines.length} lines`)
  assert.ok(lines.some((line) => line.includes('seeded demo data')), 'the demo data was seeded')
  const secrets = ['sign-up-password-77', 'wrong-password-', 'get-password-66', TEST_JWT_SECRET, 'garbage-token-99',
    ...demoLogins.map((login) => login.password), ...tokens]
  for (const secret of secrets) {
    const leaking = lines.filter((line) => line.includes(secret))
    assert.deepEqual(leaking, [], `${secret.slice(0, 12)}… appears in the log`)
  }
})

test('redaction reaches nested objects and arrays, and leaves the rest as it is', () => {
  const logged = { msg: 'x', logins: [{ email: 'a@b', password: 'p1', role: 'admin' }], deep: { a: { b: { apiToken: 't', keep: 1 } } }, list: [[{ secret: 's' }]] }
  const redacted = redactSecrets(logged, 0) as typeof logged
  assert.deepEqual(redacted, { msg: 'x', logins: [{ email: CENSOR, password: CENSOR, role: 'admin' }], deep: { a: { b: { apiToken: CENSOR, keep: 1 } } }, list: [[{ secret: CENSOR }]] })
  assert.equal(logged.logins[0].password, 'p1', 'the logged object itself is not changed')
  const clean = { a: [1, { b: 2 }] }
  assert.equal(redactSecrets(clean, 0), clean, 'nothing to censor: no copy')
  const error = Object.assign(new Error('boom'), { password: 'p2' })
  const redactedError = redactSecrets(error, 0) as Error & { password: string }
  assert.equal(redactedError.password, CENSOR)
  assert.equal(redactedError.message, 'boom')
  assert.ok(redactedError instanceof Error)
})
