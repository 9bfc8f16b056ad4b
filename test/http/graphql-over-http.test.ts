/**
 * GraphQL over HTTP as a client sees it: GET for queries only, POST with JSON, content
 * negotiation, and every malformed request answered with a 4xx GraphQL-shaped error with a
 * catalogue code — never a 500.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { errorCatalogue } from '../../src/errors.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
before(async () => { t = await startTestApp() })
after(() => t.close())

const inject = (options: InjectOptions): Promise<LightMyRequestResponse> => t.app.inject(options)
const post = (payload: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...headers }, payload })

/** A GraphQL-shaped error response with a catalogue code; returns the code. */
function assertGraphQLError (response: LightMyRequestResponse, status: number | 'any 4xx', code?: string): string {
  if (status === 'any 4xx') assert.ok(response.statusCode >= 400 && response.statusCode < 500, `status ${response.statusCode}: ${response.body}`)
  else assert.equal(response.statusCode, status, response.body)
  assert.match(String(response.headers['content-type']), /^application\/(graphql-response\+)?json/)
  const body = response.json()
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, response.body)
  assert.equal(typeof body.errors[0].message, 'string')
  const got = body.errors[0].extensions?.code
  assert.ok(got in errorCatalogue, `code ${got} is in the catalogue`)
  if (code !== undefined) assert.equal(got, code)
  assert.doesNotMatch(response.body, /\bat .+:\d+:\d+/, 'no stack trace')
  return got
}

describe('GET /graphql', () => {
  test('runs a query from the query string, with variables and operationName', async () => {
    const query = 'query A { notes { id } } query B($id: ID!) { note(id: $id) { id } }'
    const response = await inject({ method: 'GET', url: '/graphql', query: { query, operationName: 'B', variables: JSON.stringify({ id: '1' }) } })
    assert.equal(response.statusCode, 200, response.body)
    assert.match(String(response.headers['content-type']), /^application\/json/)
    assert.deepEqual(response.json(), { data: { note: null } })
  })

  test('a mutation → 405 METHOD_NOT_ALLOWED, not executed', async () => {
    const query = 'mutation { signUp(input: { name: "Get", email: "get@example.test", password: "password1" }) { token } }'
    const response = await inject({ method: 'GET', url: '/graphql', query: { query } })
    assertGraphQLError(response, 405, 'METHOD_NOT_ALLOWED')
    const [{ count }] = await t.database.db.sql`select count(*)::int as count from users`
    assert.equal(count, 0)
  })

  test('no query → 400 BAD_REQUEST', async () => {
    assertGraphQLError(await inject({ method: 'GET', url: '/graphql' }), 400, 'BAD_REQUEST')
  })
})

describe('POST /graphql', () => {
  test('a JSON body runs; application/graphql bodies too', async () => {
    const json = await post(JSON.stringify({ query: '{ notes { id } }' }))
    assert.equal(json.statusCode, 200)
    assert.deepEqual(json.json(), { data: { notes: [] } })
    const graphql = await inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/graphql' }, payload: '{ tags { id } }' })
    assert.equal(graphql.statusCode, 200, graphql.body)
    assert.deepEqual(graphql.json(), { data: { tags: [] } })
  })

  test('bad JSON → 400 BAD_REQUEST', async () => {
    assertGraphQLError(await post('{"query": '), 400, 'BAD_REQUEST')
  })

  test('an empty body → 400 BAD_REQUEST', async () => {
    assertGraphQLError(await post(''), 400, 'BAD_REQUEST')
  })

  for (const [label, payload] of [['no query', '{}'], ['a blank query', '{"query": "  "}'], ['a JSON array', '[]'], ['a JSON string', '"{ notes { id } }"']]) {
    test(`${label} → 400 BAD_REQUEST`, async () => {
      assertGraphQLError(await post(payload), 400, 'BAD_REQUEST')
    })
  }

  const jsonQueries: Array<[string, unknown]> = [
    ['a number (coerced to the string "42" by the body schema)', 42],
    ['"{}"', '{}'],
    ['"[]"', '[]'],
    ['"null"', 'null'],
    ['a JSON-encoded AST (would bypass the parser)', JSON.stringify({ kind: 'Document', definitions: [] })]
  ]
  for (const [label, query] of jsonQueries) {
    test(`a query that is JSON, not GraphQL: ${label} → 400, not a 500`, async () => {
      assertGraphQLError(await post(JSON.stringify({ query })), 400, 'GRAPHQL_PARSE_FAILED')
      if (typeof query === 'string') {
        assertGraphQLError(await inject({ method: 'GET', url: '/graphql', query: { query } }), 400, 'GRAPHQL_PARSE_FAILED')
      }
    })
  }

  test('text/plain → a 4xx with a code (415, or 400 when CSRF prevention refuses it first)', async () => {
    const response = await inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'text/plain' }, payload: '{"query":"{ notes { id } }"}' })
    const code = assertGraphQLError(response, 'any 4xx')
    assert.ok(['UNSUPPORTED_MEDIA_TYPE', 'BAD_REQUEST'].includes(code), code)
  })

  test('a body over BODY_LIMIT_BYTES → 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await post(JSON.stringify({ query: '{ notes { id } }', variables: { pad: 'x'.repeat(t.config.bodyLimitBytes) } }))
    assertGraphQLError(response, 413, 'PAYLOAD_TOO_LARGE')
  })

  test('variables that are not an object → 400', async () => {
    assertGraphQLError(await post(JSON.stringify({ query: '{ notes { id } }', variables: 'nope' })), 400)
  })

  test('a syntax error → 400 GRAPHQL_PARSE_FAILED with its location', async () => {
    const response = await post(JSON.stringify({ query: '{ notes { id }' }))
    assertGraphQLError(response, 400, 'GRAPHQL_PARSE_FAILED')
    assert.ok(response.json().errors[0].locations?.[0]?.line === 1)
    assert.equal(response.json().data, undefined, 'a request error has no data entry (spec)')
  })

  test('an unknown field → 400 GRAPHQL_VALIDATION_FAILED, every error listed', async () => {
    const response = await post(JSON.stringify({ query: '{ notes { id nope } tags { alsoNope } }' }))
    assertGraphQLError(response, 400, 'GRAPHQL_VALIDATION_FAILED')
    const errors = response.json().errors
    assert.equal(errors.length, 2)
    assert.ok(errors.every((e: { extensions: { code: string } }) => e.extensions.code === 'GRAPHQL_VALIDATION_FAILED'))
  })

  test('a variable of the wrong type → 400 GRAPHQL_VALIDATION_FAILED, also once the query is JIT-compiled', async () => {
    const query = 'query ($first: Int) { notes(first: $first) { id } }'
    for (let i = 0; i < 3; i++) {
      assert.equal((await post(JSON.stringify({ query, variables: { first: 1 } }))).statusCode, 200)
      const response = await post(JSON.stringify({ query, variables: { first: 'ten' } }))
      assertGraphQLError(response, 400, 'GRAPHQL_VALIDATION_FAILED')
      assert.match(response.json().errors[0].message, /\$first/)
      assert.equal('data' in response.json(), false, 'not executed: no data entry')
    }
  })

  test('a missing required variable → 400 GRAPHQL_VALIDATION_FAILED', async () => {
    assertGraphQLError(await post(JSON.stringify({ query: 'query ($id: ID!) { note(id: $id) { id } }' })), 400, 'GRAPHQL_VALIDATION_FAILED')
  })
})

describe('content negotiation', () => {
  const query = JSON.stringify({ query: '{ notes { id } }' })
  const cases: Array<[string | undefined, RegExp]> = [
    [undefined, /^application\/json/],
    ['application/json', /^application\/json/],
    ['application/graphql-response+json', /^application\/graphql-response\+json/],
    ['application/graphql-response+json, application/json;q=0.9', /^application\/graphql-response\+json/],
    ['application/json, application/graphql-response+json;q=0.5', /^application\/json/],
    ['*/*', /^application\/json/]
  ]
  for (const [accept, expected] of cases) {
    test(`Accept ${accept ?? '(none)'} → ${expected.source}`, async () => {
      const response = await post(query, accept === undefined ? {} : { accept })
      assert.equal(response.statusCode, 200)
      assert.match(String(response.headers['content-type']), expected)
    })
  }

  test('errors keep the negotiated type: a validation error as graphql-response+json', async () => {
    const response = await post(JSON.stringify({ query: '{ nope }' }), { accept: 'application/graphql-response+json' })
    assert.equal(response.statusCode, 400)
    assert.match(String(response.headers['content-type']), /^application\/graphql-response\+json/)
  })

  for (const accept of ['text/html', 'application/xml, text/plain;q=0.5', 'application/json;q=0']) {
    test(`Accept ${accept} → 406 NOT_ACCEPTABLE`, async () => {
      assertGraphQLError(await post(query, { accept }), 406, 'NOT_ACCEPTABLE')
    })
  }
})

describe('other routes', () => {
  test('an unknown path → 404 NOT_FOUND in the GraphQL shape', async () => {
    const response = await inject({ method: 'GET', url: '/nope?x=1' })
    assertGraphQLError(response, 404, 'NOT_FOUND')
    assert.deepEqual(response.json(), { errors: [{ message: 'No route GET /nope.', extensions: { code: 'NOT_FOUND' } }] })
  })

  test('GET /graphiql serves the IDE outside PRODUCTION, every asset from this server', async () => {
    const response = await inject({ method: 'GET', url: '/graphiql' })
    assert.equal(response.statusCode, 200)
    assert.match(String(response.headers['content-type']), /^text\/html/)
    assert.match(String(response.headers['content-security-policy']), /script-src|default-src 'self'/)
    assert.doesNotMatch(response.body, /(https?:)?\/\/[a-z]/i, 'no absolute URL: nothing comes from a CDN')
    const assets = [...response.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]).filter((url) => url !== 'data:,')
    assert.deepEqual(assets.sort(), [
      '/graphiql/assets/graphiql.min.css', '/graphiql/assets/graphiql.min.js', '/graphiql/assets/react-dom.production.min.js',
      '/graphiql/assets/react.production.min.js', '/graphiql/assets/start-graphiql.js'
    ])
    for (const url of assets) {
      const asset = await inject({ method: 'GET', url })
      assert.equal(asset.statusCode, 200, url)
      assert.match(String(asset.headers['content-type']), url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/, url)
      assert.ok(asset.body.length > 100, `${url} has content`)
    }
  })

  test('introspection works outside PRODUCTION', async () => {
    const response = await post(JSON.stringify({ query: '{ __schema { queryType { name } } }' }))
    assert.deepEqual(response.json(), { data: { __schema: { queryType: { name: 'Query' } } } })
  })
})
