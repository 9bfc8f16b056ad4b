/**
 * No client input reaches a 5xx: a table of malformed requests (bodies, content types,
 * methods, variables, ids, strings, headers), each answered with the catalogue error it names,
 * and nothing logged as unexpected. Then the protocol rules on both sides: operationName, JSON
 * depth, NUL in strings, `first` out of range, the legacy application/json status, batched
 * errors cleaned in PRODUCTION, bodies over the limit whichever way they are sent.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { configWith } from '../../src/config.ts'
import { errorCatalogue, type ErrorName } from '../../src/errors.ts'
import { createTestDatabase } from '../helpers/database.ts'
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'

const JSON_TYPE = { 'content-type': 'application/json' }
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + '1' + '}'.repeat(depth - 1)
const get = (params: Record<string, string>): InjectOptions => ({ method: 'GET', url: `/graphql?${new URLSearchParams(params)}` })
const post = (body: unknown, headers: Record<string, string> = JSON_TYPE): InjectOptions =>
  ({ method: 'POST', url: '/graphql', headers, payload: typeof body === 'string' ? body : JSON.stringify(body) })

const NOT_JSON = "Body is not valid JSON but content-type is set to 'application/json'"
const TOO_DEEP = 'is nested deeper than 32 levels (MAX_JSON_DEPTH)'

/** [label, request, the catalogue's error it is answered with, the values in its message]. */
const battery: Array<[string, InjectOptions, ErrorName, Record<string, unknown>?]> = [
  ['body: truncated JSON', post('{"query": '), 'REQUEST_REFUSED', { message: NOT_JSON }],
  ['body: empty', post(''), 'REQUEST_REFUSED', { message: "Body cannot be empty when content-type is set to 'application/json'" }],
  ['body: JSON null', post('null'), 'BODY_NOT_OPERATION'],
  ['body: a number', post('42'), 'BODY_NOT_OPERATION'],
  ['body: an array without batching', post([{ query: '{ notes { id } }' }]), 'BODY_NOT_OPERATION'],
  ['body: __proto__ key', post('{"query":"{ notes { id } }","__proto__":{"x":1}}'), 'REQUEST_REFUSED', { message: NOT_JSON }],
  ['body: constructor.prototype', post('{"query":"{ notes { id } }","variables":{"constructor":{"prototype":{}}}}'), 'REQUEST_REFUSED', { message: NOT_JSON }],
  ['body: nested 5,000 levels in variables', post(`{"query":"query($x: String) { notes { id } }","variables":{"x":${nested(5000)}}}`), 'BODY_SHAPE', { part: 'The body', problem: TOO_DEEP }],
  ['body: nested 5,000 levels in an unused key', post(`{"query":"{ notes { id } }","junk":${nested(5000)}}`), 'BODY_SHAPE', { part: 'The body', problem: TOO_DEEP }],
  ['body: invalid UTF-8', { method: 'POST', url: '/graphql', headers: JSON_TYPE, payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }, 'REQUEST_REFUSED', { message: NOT_JSON }],
  ['content type: text/plain', post({ query: '{ notes { id } }' }, { 'content-type': 'text/plain' }), 'CSRF_SUSPECTED'],
  ['content type: form', post('query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' }), 'CSRF_SUSPECTED'],
  ['content type: multipart', post('--x\r\n\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }), 'CSRF_SUSPECTED'],
  ['content type: xml with preflight header', post('<q/>', { 'content-type': 'application/xml', 'graphql-require-preflight': '1' }), 'UNSUPPORTED_MEDIA_TYPE'],
  ['content type: none', { method: 'POST', url: '/graphql', payload: '{"query":"{ notes { id } }"}' }, 'CSRF_SUSPECTED'],
  ['content type: gzip-encoded JSON', { method: 'POST', url: '/graphql', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, payload: gzipSync('{"query":"{ notes { id } }"}') }, 'REQUEST_REFUSED', { message: NOT_JSON }],
  ['method: PUT', { method: 'PUT', url: '/graphql', headers: JSON_TYPE, payload: '{"query":"{ notes { id } }"}' }, 'ROUTE_NOT_FOUND', { method: 'PUT', path: '/graphql' }],
  ['method: DELETE', { method: 'DELETE', url: '/graphql' }, 'ROUTE_NOT_FOUND', { method: 'DELETE', path: '/graphql' }],
  ['method: PATCH', { method: 'PATCH', url: '/graphql', headers: JSON_TYPE, payload: '{}' }, 'ROUTE_NOT_FOUND', { method: 'PATCH', path: '/graphql' }],
  ['method: GET with a mutation', get({ query: 'mutation { login(email: "a@b.c", password: "x") { token } }' }), 'MUTATION_OVER_GET'],
  ['GET: no query', get({}), 'QUERY_MISSING'],
  ['GET: query twice', { method: 'GET', url: '/graphql?query=%7B__typename%7D&query=%7B__typename%7D' }, 'PARAMETER_REPEATED', { name: 'query' }],
  ['GET: variables not JSON', get({ query: '{ notes { id } }', variables: '{bad' }), 'PARAMETER_NOT_JSON', { name: 'variables' }],
  ['GET: variables a number', get({ query: '{ notes { id } }', variables: '5' }), 'PARAMETER_NOT_OBJECT', { name: 'variables' }],
  ['GET: variables an array', get({ query: '{ notes { id } }', variables: '[1]' }), 'PARAMETER_NOT_OBJECT', { name: 'variables' }],
  ['GET: variables twice', { method: 'GET', url: '/graphql?query=%7B__typename%7D&variables=%7B%7D&variables=%7B%7D' }, 'PARAMETER_REPEATED', { name: 'variables' }],
  ['GET: variables with __proto__', get({ query: '{ notes { id } }', variables: '{"__proto__":{"a":1}}' }), 'BODY_SHAPE', { part: 'variables', problem: 'contains a forbidden "__proto__" key' }],
  ['GET: variables nested 5,000 levels', get({ query: 'query($x: String) { notes { id } }', variables: `{"x":${nested(5000)}}` }), 'BODY_SHAPE', { part: 'variables', problem: TOO_DEEP }],
  ['GET: extensions not JSON', get({ query: '{ notes { id } }', extensions: 'nope' }), 'PARAMETER_NOT_JSON', { name: 'extensions' }],
  ['GET: unknown operationName', get({ query: 'query A { __typename }', operationName: 'B' }), 'OPERATION_NAME_UNKNOWN', { name: 'B', expose: true }],
  ['GET: two operations, no operationName', get({ query: 'query A { __typename } query B { __typename }' }), 'OPERATION_NAME_REQUIRED'],
  ['POST: unknown operationName', post({ query: 'query A { __typename }', operationName: 'B' }), 'OPERATION_NAME_UNKNOWN', { name: 'B', expose: true }],
  ['POST: operationName a number', post({ query: 'query A { __typename }', operationName: 5 }), 'OPERATION_NAME_UNKNOWN', { name: '5', expose: true }],
  ['POST: variables a string', post({ query: '{ notes { id } }', variables: 'nope' }), 'PARAMETER_NOT_OBJECT', { name: 'variables' }],
  ['POST: variables an array', post({ query: '{ notes { id } }', variables: [1, 2] }), 'PARAMETER_NOT_OBJECT', { name: 'variables' }],
  ['POST: extensions a string', post({ query: '{ notes { id } }', extensions: 'x' }), 'PARAMETER_NOT_OBJECT', { name: 'extensions' }],
  ['POST: variable of the wrong type', post({ query: 'query ($n: Int) { notes(first: $n) { id } }', variables: { n: 'ten' } }), 'DOCUMENT_NOT_VALID', { message: 'Variable "$n" got invalid value "ten"; Int cannot represent non-integer value: "ten"' }],
  ['POST: Int variable out of 32 bits', post({ query: 'query ($n: Int) { notes(first: $n) { id } }', variables: { n: 2 ** 40 } }), 'DOCUMENT_NOT_VALID', { message: 'Variable "$n" got invalid value 1099511627776; Expected type Int; Int cannot represent non 32-bit signed integer value: 1099511627776' }],
  ['POST: query only fragments', post({ query: 'fragment F on Note { id }' }), 'DOCUMENT_NOT_VALID', { message: 'Fragment "F" is never used.' }],
  ['POST: query a JSON AST', post({ query: JSON.stringify({ kind: 'Document', definitions: [] }) }), 'QUERY_NOT_GRAPHQL'],
  ['ids: not a number', post({ query: '{ note(id: "abc") { id } }' }), 'ID_MALFORMED', { field: 'id', got: 'abc' }],
  ['ids: 40 digits', post({ query: `{ note(id: "${'9'.repeat(40)}") { id } }` }), 'ID_MALFORMED', { field: 'id', got: '9'.repeat(40) }],
  ['ids: negative', post({ query: '{ user(id: "-1") { id } }' }), 'ID_MALFORMED', { field: 'id', got: '-1' }],
  ['ids: after not an id', post({ query: '{ notes(after: "x") { id } }' }), 'ID_MALFORMED', { field: 'after', got: 'x' }],
  ['strings: NUL in tag(name:)', post({ query: '{ tag(name: "a\\u0000b") { id } }' }), 'TEXT_HAS_NUL', { field: 'name' }],
  ['strings: NUL in notes(tag:)', post({ query: 'query ($t: String) { notes(tag: $t) { id } }', variables: { t: 'x\u0000' } }), 'TEXT_HAS_NUL', { field: 'tag' }],
  ['strings: NUL in a login email', post({ query: 'mutation { login(email: "a\\u0000@b.test", password: "whatever1") { token } }' }), 'TEXT_HAS_NUL', { field: 'email' }],
  ['strings: NUL in a signUp name', post({ query: 'mutation ($i: SignUpInput!) { signUp(input: $i) { token } }', variables: { i: { name: 'a\u0000', email: 'nul@example.test', password: 'password1' } } }), 'TEXT_HAS_NUL', { field: 'name' }],
  ['strings: unpaired surrogate in tag(name:)', post({ query: 'query ($n: String!) { tag(name: $n) { id } }', variables: { n: 'a\ud800' } }), 'TEXT_UNPAIRED_SURROGATE', { field: 'name' }],
  ['strings: first of 99999999', post({ query: '{ notes(first: 99999999) { id } }' }), 'FIRST_OUT_OF_RANGE', { field: 'first', max: 100, got: 99999999 }],
  ['headers: Authorization without Bearer', post({ query: '{ me { id } }' }, { ...JSON_TYPE, authorization: 'Basic abc' }), 'AUTHORIZATION_MALFORMED'],
  ['headers: a garbage token', post({ query: '{ me { id } }' }, { ...JSON_TYPE, authorization: 'Bearer not.a.token' }), 'TOKEN_INVALID'],
  ['headers: Accept text/html', post({ query: '{ me { id } }' }, { ...JSON_TYPE, accept: 'text/html' }), 'NOT_ACCEPTABLE'],
  ['headers: Accept q=abc', post({ query: '{ me { id } }' }, { ...JSON_TYPE, accept: 'application/json;q=abc' }), 'NOT_ACCEPTABLE'],
  ['headers: Content-Length lies (short)', { method: 'POST', url: '/graphql', headers: { ...JSON_TYPE, 'content-length': '5' }, payload: '{"query":"{ notes { id } }"}' }, 'REQUEST_REFUSED', { message: 'Request body size did not match Content-Length' }]
]

describe('the malformed-request battery', () => {
  let t: TestApp
  const lines: string[] = []
  before(async () => {
    const database = await createTestDatabase()
    const logDestination = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
    const config = configWith({ databaseUrl: database.url, jwtSecret: TEST_JWT_SECRET, logLevel: 'info', seedDemoData: false, dataDir: '.data-test-battery' })
    const app = await buildApp(config, { database, logDestination })
    t = { app, database, config, close: async () => { await app.close(); await database.drop() } } as unknown as TestApp
  })
  after(() => t.close())

  for (const [label, options, name, values] of battery) {
    test(`${label}: ${name}`, async () => {
      lines.length = 0
      const response = await t.app.inject(options)
      assert.ok(response.statusCode < 500, `${response.statusCode}: ${response.body}`)
      assertCatalogueError(name, { status: response.statusCode, body: response.json() }, values)
      const unexpected = lines.filter((line) => /"level":50|unexpected/.test(line))
      assert.deepEqual(unexpected, [], 'nothing logged as an unexpected error')
    })
  }
})

describe('protocol rules, both sides', () => {
  let t: TestApp
  before(async () => { t = await startTestApp() })
  after(() => t.close())
  const send = (options: InjectOptions) => t.app.inject(options)
  const codeOf = (response: LightMyRequestResponse) => response.json().errors?.[0]?.extensions?.code

  test('operationName: a name the document holds runs (GET and POST); one it lacks is 400 BAD_REQUEST', async () => {
    const query = 'query A { __typename } query B { notes { id } }'
    assert.deepEqual((await send(get({ query, operationName: 'A' }))).json(), { data: { __typename: 'Query' } })
    assert.deepEqual((await send(post({ query, operationName: 'B' }))).json(), { data: { notes: [] } })
    for (const options of [get({ query, operationName: 'C' }), post({ query, operationName: 'C' }), get({ query }), post({ query })]) {
      const response = await send(options)
      assert.equal(response.statusCode, 400, response.body)
      assert.equal(codeOf(response), 'BAD_REQUEST')
    }
    assert.equal((await send(post({ query: '{ __typename }', operationName: '' }))).statusCode, 200, 'an empty name means none')
  })

  test(`JSON depth: ${32} levels of body pass, ${33} are 400 BAD_REQUEST (POST and GET)`, async () => {
    // Objects and arrays are counted: the body (1), its variables (2), then x's own levels.
    const bodyAt = (depth: number) => `{"query":"query($x: String) { tag(name: $x) { id } }","variables":{"x":${nested(depth - 1)}}}`
    const ok = await send(post(bodyAt(32)))
    assert.notEqual(codeOf(ok), 'BAD_REQUEST', ok.body)
    const deep = await send(post(bodyAt(33)))
    assert.equal(deep.statusCode, 400)
    assert.match(deep.json().errors[0].message, /MAX_JSON_DEPTH/)
    const getAt = (depth: number) => get({ query: 'query($x: String) { tag(name: $x) { id } }', variables: `{"x":${nested(depth)}}` })
    assert.notEqual(codeOf(await send(getAt(32))), 'BAD_REQUEST')
    assert.equal(codeOf(await send(getAt(33))), 'BAD_REQUEST')
  })

  test('strings: a NUL or an unpaired surrogate is BAD_USER_INPUT naming the field; the same text without it is stored', async () => {
    const { token } = await t.signUp('Nul')
    const create = (title: string, body = 'ok', tags: string[] = []) => t.gql('mutation ($i: CreateNoteInput!) { createNote(input: $i) { id title } }', { token, variables: { i: { title, body, tags } } })
    for (const [args, field] of [[['a\u0000b'], 'title'], [['t', 'b\u0000'], 'body'], [['t', 'b', ['x\u0000']], 'tags'], [['a\udc00'], 'title']] as const) {
      const result = await create(...(args as unknown as [string, string?, string[]?]))
      assert.equal(result.body.errors?.[0].extensions?.code, 'BAD_USER_INPUT', JSON.stringify(result.body))
      assert.equal(result.body.errors?.[0].extensions?.field, field)
    }
    const stored = await create('a b 😀', 'ok', ['x y'])
    assert.equal(stored.body.data?.createNote.title, 'a b 😀', JSON.stringify(stored.body))
    const tag = await t.gql('{ tag(name: "x y") { name } }', { token })
    assert.deepEqual(tag.body.data, { tag: { name: 'x y' } })
  })

  for (const [label, query, variables] of [
    ['literal', '{ notes(first: 99999999) { id } }', undefined],
    ['variable', 'query ($n: Int) { notes(first: $n) { id } }', { n: 99999999 }],
    ['nested literal', '{ users(first: 1) { notes(first: 99999999) { id } } }', undefined]
  ] as const) {
    test(`first: 99999999 (${label}) is BAD_USER_INPUT naming first, not QUERY_TOO_COMPLEX; 100 passes`, async () => {
      const result = await t.gql(query, { variables })
      const error = result.body.errors?.[0]
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(result.body))
      assert.equal(error?.extensions?.field, 'first')
      const within = await t.gql(query.replace('99999999', '100'), { variables: variables ? { n: 100 } : undefined })
      assert.equal(within.body.errors, undefined, JSON.stringify(within.body))
    })
  }

  test('the cost rule still guards valid `first` values: 100 × 100 × 100 is QUERY_TOO_COMPLEX', async () => {
    const result = await t.gql('{ users(first: 100) { notes(first: 100) { tags { notes(first: 100) { id } } } } }')
    assert.equal(result.status, 400)
    assert.equal(result.body.errors?.[0].extensions?.code, 'QUERY_TOO_COMPLEX')
  })

  for (const [label, payload, code] of [
    ['parse', { query: '{ notes {' }, 'GRAPHQL_PARSE_FAILED'],
    ['validation', { query: '{ nope }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['variable coercion', { query: 'query ($n: Int) { notes(first: $n) { id } }', variables: { n: 'x' } }, 'GRAPHQL_VALIDATION_FAILED']
  ] as const) {
    test(`a ${label} failure: 200 for Accept application/json only, 400 for graphql-response+json, no Accept or */*`, async () => {
      for (const [accept, status] of [['application/json', 200], ['application/graphql-response+json', 400], [undefined, 400], ['*/*', 400], ['application/json, application/graphql-response+json', 400]] as const) {
        const response = await send(post(payload, { ...JSON_TYPE, ...(accept ? { accept } : {}) }))
        assert.equal(response.statusCode, status, `Accept ${accept}: ${response.body}`)
        assert.equal(codeOf(response), code)
      }
      // Not every 400 turns 200: a malformed request stays 400 for a legacy client.
      assert.equal((await send(post('{"query": ', { ...JSON_TYPE, accept: 'application/json' }))).statusCode, 400)
    })
  }
})

describe('PRODUCTION=true with BATCHED_QUERIES=true', () => {
  let t: TestApp
  before(async () => { t = await startTestApp({ production: true, batchedQueries: true }) })
  after(() => t.close())

  test('batched errors are cleaned like single ones: no "Did you mean", no limit numbers', async () => {
    const tooManyTokens = `{ ${'__typename '.repeat(1200)}}`
    const batch = [{ query: '{ notes { titl } }' }, { query: tooManyTokens }, { query: '{ notes { id } }' }]
    const response = await t.app.inject(post(batch))
    const [typo, tokens, fine] = response.json()
    assert.equal(typo.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED')
    assert.doesNotMatch(typo.errors[0].message, /Did you mean/)
    assert.equal(tokens.errors[0].extensions.code, 'QUERY_TOO_COMPLEX')
    assert.doesNotMatch(tokens.errors[0].message, /\d/)
    assert.deepEqual(fine, { data: { notes: [] } })
    const single = await t.gql('{ notes { titl } }')
    assert.equal(single.body.errors?.[0].message, typo.errors[0].message, 'the same words as a single operation')
  })

  test('outside PRODUCTION the same batch keeps the suggestion (the cleaning is what removed it)', async () => {
    const dev = await startTestApp({ batchedQueries: true })
    try {
      const [typo] = (await dev.app.inject(post([{ query: '{ notes { titl } }' }]))).json()
      assert.match(typo.errors[0].message, /Did you mean "title"/)
    } finally {
      await dev.close()
    }
  })
})

describe('bodies over BODY_LIMIT_BYTES, whichever way they come', () => {
  let t: TestApp
  let port: number
  before(async () => {
    t = await startTestApp({ bodyLimitBytes: 4096 })
    port = Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port)
  })
  after(() => t.close())

  const raw = (headers: Record<string, string>, chunks: Buffer[]) => new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/graphql', headers }, (res) => {
      let body = ''
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
  const payload = (size: number) => Buffer.from(JSON.stringify({ query: '{ notes { id } }', variables: { pad: 'x'.repeat(size) } }))

  test('chunked (no Content-Length): under the limit runs, over it is 413', async () => {
    const small = payload(1000)
    const ok = await raw({ ...JSON_TYPE, 'transfer-encoding': 'chunked' }, [small.subarray(0, 500), small.subarray(500)])
    assert.equal(ok.status, 200, ok.body)
    const big = payload(8000)
    const refused = await raw({ ...JSON_TYPE, 'transfer-encoding': 'chunked' }, [big.subarray(0, 3000), big.subarray(3000, 6000), big.subarray(6000)])
    assert.equal(refused.status, 413, refused.body)
    assert.equal(JSON.parse(refused.body).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE')
  })

  test('gzip: a small compressed body that would inflate past the limit is never inflated (4xx, not a 5xx)', async () => {
    const bomb = gzipSync(payload(1_000_000))
    assert.ok(bomb.length < 4096, 'the compressed body itself is under the limit')
    const response = await raw({ ...JSON_TYPE, 'content-encoding': 'gzip', 'content-length': String(bomb.length) }, [bomb])
    assert.ok(response.status >= 400 && response.status < 500, `${response.status}: ${response.body}`)
    assert.ok(JSON.parse(response.body).errors[0].extensions.code in errorCatalogue)
  })
})
