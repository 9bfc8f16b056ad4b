/**
 * Every query limit on both sides: at the limit the query runs, one past it is refused with
 * QUERY_TOO_COMPLEX (HTTP 400) before any resolver runs; PRODUCTION hides the limit's value.
 * Also: the known bypasses (fragments, fragment cycles, an operation named __schema), body
 * size, batching, CSRF, introspection and suggestions.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, TEST_JWT_SECRET, type GraphQLResult, type TestApp } from '../helpers/app.ts'

const limits = { maxDepth: 4, maxAliases: 3, maxDirectives: 2, maxTokens: 60, maxCost: 110, cacheEnabled: false }
let t: TestApp
let production: TestApp

before(async () => {
  t = await startTestApp(limits)
  production = await startTestApp({ ...limits, production: true, jwtSecret: TEST_JWT_SECRET }, { database: t.database })
})
after(async () => {
  await production.close()
  await t.close()
})

function assertRefused (result: GraphQLResult, code = 'QUERY_TOO_COMPLEX'): string {
  assert.equal(result.status, 400, JSON.stringify(result.body))
  assert.equal(result.body.data, undefined, 'nothing executed')
  assert.equal(result.body.errors?.[0].extensions?.code, code, JSON.stringify(result.body))
  return result.body.errors![0].message
}

function assertRan (result: GraphQLResult): void {
  assert.equal(result.status, 200, JSON.stringify(result.body))
  assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors))
}

describe('depth', () => {
  test('at the limit runs, one past is refused; the message names the limit outside PRODUCTION only', async () => {
    assertRan(await t.gql('{ users(first: 1) { notes(first: 1) { author { id } } } }'))
    const over = '{ users(first: 1) { notes(first: 1) { author { notes(first: 1) { id } } } } }'
    assert.match(assertRefused(await t.gql(over)), /4/)
    const hidden = assertRefused(await production.gql(over))
    assert.doesNotMatch(hidden, /\d/, 'PRODUCTION does not reveal the limit')
  })

  test('depth hidden in fragments and inline fragments counts the same', async () => {
    assertRan(await t.gql('{ users(first: 1) { ...N } } fragment N on User { notes(first: 1) { ... on Note { author { id } } } }'))
    assertRefused(await t.gql('{ users(first: 1) { ...N } } fragment N on User { notes(first: 1) { ...A } } fragment A on Note { author { notes(first: 1) { id } } }'))
  })

  test('a fragment cycle is refused, not looped on', async () => {
    const result = await t.gql('{ users(first: 1) { ...A } } fragment A on User { notes(first: 1) { author { ...A } } }')
    assert.equal(result.status, 400)
    assert.ok(['QUERY_TOO_COMPLEX', 'GRAPHQL_VALIDATION_FAILED'].includes(String(result.body.errors?.[0].extensions?.code)))
  })

  test('an operation named __schema, or a field aliased __schema, gets no introspection pass', async () => {
    assertRefused(await t.gql('query __schema { users(first: 1) { notes(first: 1) { author { notes(first: 1) { id } } } } }'))
    assertRefused(await t.gql('{ __schema: users(first: 1) { notes(first: 1) { author { notes(first: 1) { id } } } } }'))
  })
})

describe('aliases, directives, tokens', () => {
  test('aliases: 3 run, 4 are refused', async () => {
    assertRan(await t.gql('{ a: me { id } b: me { id } c: me { id } }'))
    assertRefused(await t.gql('{ a: me { id } b: me { id } c: me { id } d: me { id } }'))
  })

  test('directives: 2 run, 3 are refused', async () => {
    assertRan(await t.gql('{ me @include(if: true) { id @skip(if: false) } }'))
    assertRefused(await t.gql('{ me @include(if: true) { id @skip(if: false) name @skip(if: false) } }'))
  })

  test('tokens: at the limit parses, one past is refused without revealing the limit in PRODUCTION', async () => {
    // "{ me { } }" is 5 tokens; each "id" adds one.
    const atLimit = `{ me { ${'id '.repeat(limits.maxTokens - 5)}} }`
    assertRan(await t.gql(atLimit))
    const over = `{ me { ${'id '.repeat(limits.maxTokens - 4)}} }`
    assert.match(assertRefused(await t.gql(over)), /60/)
    assert.doesNotMatch(assertRefused(await production.gql(over)), /\d/)
  })
})

describe('cost reads `first`, including variables', () => {
  const query = 'query ($n: Int) { users(first: $n) { notes(first: $n) { id } } }'
  test('n + n² rows: n = 10 (110) runs, n = 11 (132) is refused', async () => {
    assertRan(await t.gql(query, { variables: { n: 10 } }))
    assert.match(assertRefused(await t.gql(query, { variables: { n: 11 } })), /132/)
    assert.doesNotMatch(assertRefused(await production.gql(query, { variables: { n: 11 } })), /\d/)
  })

  test('literals and variable defaults count too', async () => {
    assertRan(await t.gql('{ users(first: 10) { notes(first: 10) { id } } }'))
    assertRefused(await t.gql('{ users(first: 11) { notes(first: 10) { id } } }'))
    assertRefused(await t.gql('query ($n: Int = 11) { users(first: $n) { notes(first: $n) { id } } }'))
  })

  test('a refused mutation did not run', async () => {
    const signUps = 'mutation ($n: Int) { signUp(input: { name: "Cost", email: "cost@example.test", password: "password1" }) { user { notes(first: $n) { tags { id } } } } }'
    assertRefused(await t.gql(signUps, { variables: { n: 100 } }))
    const [{ count }] = await t.database.db.sql`select count(*)::int as count from users where email = 'cost@example.test'`
    assert.equal(count, 0, 'the mutation did not run')
  })
})

describe('HTTP-level limits', () => {
  const body = (size: number) => {
    const base = JSON.stringify({ query: '{ me { id } }', variables: { pad: '' } })
    return JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(size - base.length) } })
  }

  test('a body of exactly BODY_LIMIT_BYTES is read; one byte more is 413 PAYLOAD_TOO_LARGE', async () => {
    const limit = t.config.bodyLimitBytes
    const ok = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: body(limit) })
    assert.equal(ok.statusCode, 200, ok.body.slice(0, 200))
    const big = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: body(limit + 1) })
    assert.equal(big.statusCode, 413)
    assert.equal(big.json().errors[0].extensions.code, 'PAYLOAD_TOO_LARGE')
  })

  test('batched operations are off by default: an array body is 400', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify([{ query: '{ me { id } }' }]) })
    assert.equal(response.statusCode, 400)
    assert.equal(response.json().errors[0].extensions.code, 'BAD_REQUEST')
  })

  test('with BATCHED_QUERIES=true, 10 operations run and 11 are refused', async () => {
    const batched = await startTestApp({ batchedQueries: true, cacheEnabled: false }, { database: t.database })
    try {
      const send = (count: number) => batched.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(Array.from({ length: count }, () => ({ query: '{ me { id } }' })))
      })
      const ten = await send(10)
      assert.equal(ten.statusCode, 200, ten.body)
      assert.equal(ten.json().length, 10)
      const eleven = await send(11)
      assert.equal(eleven.statusCode, 400)
      assert.equal(eleven.json().errors[0].extensions.code, 'BAD_REQUEST')
    } finally {
      await batched.close()
    }
  })

  test('CSRF: a simple-content-type POST is refused unless it carries a preflight header', async () => {
    const simple = { method: 'POST' as const, url: '/graphql', payload: 'query={ me { id } }', headers: { 'content-type': 'application/x-www-form-urlencoded' } }
    const refused = await t.app.inject(simple)
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.json().errors[0].extensions.code, 'BAD_REQUEST')
    assert.match(refused.json().errors[0].message, /cross-site/)
    const textPlain = await t.app.inject({ ...simple, payload: '{"query":"{ me { id } }"}', headers: { 'content-type': 'text/plain' } })
    assert.match(textPlain.json().errors[0].message, /cross-site/)
    // The other side: the same text/plain body with a preflight header gets past the guard
    // (and is then refused by the content-type rules, not as CSRF).
    const withHeader = await t.app.inject({ ...simple, payload: '{"query":"{ me { id } }"}', headers: { 'content-type': 'text/plain', 'graphql-require-preflight': '1' } })
    assert.doesNotMatch(withHeader.body, /cross-site/)
    assertRan(await t.gql('{ me { id } }'))
  })
})

describe('PRODUCTION hides the schema', () => {
  test('introspection is refused in PRODUCTION and allowed otherwise', async () => {
    assertRan(await t.gql('{ __schema { queryType { name } } }'))
    const refused = await production.gql('{ __schema { queryType { name } } }')
    assert.equal(refused.status, 400)
    assert.equal(refused.body.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED')
  })

  test('"Did you mean" suggestions only outside PRODUCTION', async () => {
    const dev = await t.gql('{ note(id: "1") { titel } }')
    assert.match(dev.body.errors![0].message, /Did you mean "title"\?/)
    const prod = await production.gql('{ note(id: "1") { titel } }')
    assert.equal(prod.body.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED')
    assert.doesNotMatch(prod.body.errors![0].message, /Did you mean|title"/)
  })
})
