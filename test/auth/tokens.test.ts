/**
 * Bearer tokens: a good token makes the request the user's; any bad token (malformed,
 * wrong signature, wrong algorithm, wrong audience or issuer, expired, claims missing) fails
 * the whole request with 401 UNAUTHENTICATED instead of silently answering as anonymous.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SignJWT } from 'jose'
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/auth/tokens.ts'
import type { ErrorName } from '../../src/errors.ts'
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

let t: TestApp
let alice: { id: string, token: string }
const key = new TextEncoder().encode(TEST_JWT_SECRET)
const nowSeconds = (): number => Math.floor(Date.now() / 1000)

interface Forge { alg?: string, secret?: Uint8Array, iss?: string | null, aud?: string | null, exp?: number | null, sub?: string | null, role?: string }

/** A token like the server's, with one thing changed. */
async function forge ({ alg = 'HS256', secret = key, iss = TOKEN_ISSUER, aud = TOKEN_AUDIENCE, exp = nowSeconds() + 600, sub = alice.id, role = 'user' }: Forge): Promise<string> {
  let jwt = new SignJWT({ role }).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt()
  if (iss !== null) jwt = jwt.setIssuer(iss)
  if (aud !== null) jwt = jwt.setAudience(aud)
  if (exp !== null) jwt = jwt.setExpirationTime(exp)
  if (sub !== null) jwt = jwt.setSubject(sub)
  return jwt.sign(secret)
}

function unsignedToken (): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: alice.id, role: 'admin', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: nowSeconds() + 600 })}.`
}

before(async () => {
  t = await startTestApp()
  alice = await t.signUp('Alice')
})
after(() => t.close())

test('a valid token makes the request the user\'s', async () => {
  const result = await t.gql('{ me { id } }', { token: alice.token })
  assert.equal(result.status, 200)
  assert.deepEqual(result.body.data, { me: { id: alice.id } })
  const forged = await forge({})
  assert.deepEqual((await t.gql('{ me { id } }', { token: forged })).body.data, { me: { id: alice.id } }, 'the forge helper makes good tokens')
})

describe('a bad token → 401 UNAUTHENTICATED for the whole request', () => {
  const cases: Array<[string, () => Promise<string> | string, ErrorName]> = [
    ['garbage', () => 'not.a.token', 'TOKEN_INVALID'],
    ['signed with another secret', () => forge({ secret: new TextEncoder().encode('x'.repeat(48)) }), 'TOKEN_INVALID'],
    ['HS512 instead of the pinned HS256', () => forge({ alg: 'HS512' }), 'TOKEN_INVALID'],
    ['alg "none" (unsigned)', unsignedToken, 'TOKEN_INVALID'],
    ['wrong audience', () => forge({ aud: 'someone-else' }), 'TOKEN_INVALID'],
    ['wrong issuer', () => forge({ iss: 'evil' }), 'TOKEN_INVALID'],
    ['no audience', () => forge({ aud: null }), 'TOKEN_INVALID'],
    ['no issuer', () => forge({ iss: null }), 'TOKEN_INVALID'],
    ['no exp', () => forge({ exp: null }), 'TOKEN_INVALID'],
    ['expired', () => forge({ exp: nowSeconds() - 120 }), 'TOKEN_EXPIRED'],
    ['no subject', () => forge({ sub: null }), 'TOKEN_INVALID'],
    ['an unknown role', () => forge({ role: 'root' }), 'TOKEN_INVALID'],
    ['a tampered payload (role raised to admin)', tamperedToAdmin, 'TOKEN_INVALID']
  ]
  for (const [label, make, error] of cases) {
    test(`${label}: ${error}`, async () => {
      const token = await make()
      for (const query of ['{ notes { id } }', 'mutation { createNote(input: { title: "x" }) { id } }']) {
        const result = await t.gql(query, { token })
        assertCatalogueError(error, result)
        assert.equal(result.body.data, undefined, 'refused before execution: no data entry')
      }
      const [{ count }] = await t.database.db.sql`select count(*)::int as count from notes`
      assert.equal(count, 0, 'nothing was written')
    })
  }

  test('the token of a user deleted since: TOKEN_USER_GONE once the deletion reaches the caches', async () => {
    const gone = await t.signUp('Gone')
    assert.deepEqual((await t.gql('{ me { id } }', { token: gone.token })).body.data, { me: { id: gone.id } })
    await t.database.db.sql`delete from users where id = ${gone.id}`
    // The deletion reaches the row cache over the bus (LISTEN), a moment after its commit.
    let result = await t.gql('{ me { id } }', { token: gone.token })
    for (const stopAt = performance.now() + 5000; result.status === 200 && performance.now() < stopAt;) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      result = await t.gql('{ me { id } }', { token: gone.token })
    }
    assertCatalogueError('TOKEN_USER_GONE', result)
  })

  for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words', 'a-token-without-the-scheme']) {
    test(`Authorization: ${JSON.stringify(header.slice(0, 20))} (not "Bearer <token>")`, async () => {
      assertCatalogueError('AUTHORIZATION_MALFORMED', await t.gql('{ me { id } }', { headers: { authorization: header } }))
    })
  }
})

async function tamperedToAdmin (): Promise<string> {
  const [header, , signature] = alice.token.split('.')
  const payload = JSON.parse(Buffer.from(alice.token.split('.')[1], 'base64url').toString())
  return `${header}.${Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url')}.${signature}`
}
