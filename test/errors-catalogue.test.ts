/**
 * Every error a client can get is built from the catalogue (src/errors.ts): each request below
 * takes a path that answers an error, and what the client sees — status, message, code and
 * extensions — must be exactly what `apiError(name, values)` makes; the database's failures are
 * raised by a trigger. Errors whose path needs a fault these apps cannot raise (a lost database,
 * an expired budget, overload) or a setting they do not have are walked by the test files named
 * in `walkedElsewhere`, with the same check (test/helpers/catalogue.ts); the last test checks
 * that together they name every error.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { InjectOptions } from 'fastify'
import { errorDefinitions, type ErrorName } from '../src/errors.ts'
import { limits as inputLimits } from '../src/graphql/input-rules.ts'
import { startTestApp, type TestApp } from './helpers/app.ts'
import { assertCatalogueError } from './helpers/catalogue.ts'
import { runAsAdmin } from './helpers/database.ts'

interface Seen { status: number, body: { data?: unknown, errors?: Array<Record<string, unknown>> } }
type Walk = (apps: Apps) => Promise<Seen>
interface Apps { strict: TestApp, throttled: TestApp, user: { id: string, token: string, email: string } }

const limits = { maxDepth: 3, maxAliases: 2, maxDirectives: 2, maxTokens: 60, maxCost: 50, batchedQueries: true, maxBatchedOperations: 2, bodyLimitBytes: 4096 }
const post = (apps: Apps, payload: string, headers: Record<string, string> = {}): Promise<Seen> => inject(apps.strict, { method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...headers }, payload })
const get = (apps: Apps, query: string): Promise<Seen> => inject(apps.strict, { method: 'GET', url: `/graphql?${query}` })
const gql = (apps: Apps, query: string, variables?: Record<string, unknown>, token?: string): Promise<Seen> =>
  post(apps, JSON.stringify({ query, variables }), token === undefined ? {} : { authorization: `Bearer ${token}` })

/** name → the values its message takes on this path, and the request that takes it. */
const walks: Array<[ErrorName, Record<string, unknown> | undefined, Walk]> = [
  ['SIGN_IN_REQUIRED', undefined, (apps) => gql(apps, 'mutation { updateUser(input: { name: "x" }) { id } }')],
  ['LOGIN_FAILED', undefined, (apps) => gql(apps, 'mutation { login(email: "nobody@example.test", password: "wrong password") { token } }')],
  ['AUTHORIZATION_MALFORMED', undefined, (apps) => post(apps, '{"query":"{ me { id } }"}', { authorization: 'Basic abc' })],
  ['TOKEN_INVALID', undefined, (apps) => post(apps, '{"query":"{ me { id } }"}', { authorization: 'Bearer not-a-token' })],
  ['NOTE_NOT_FOUND', { id: '999999' }, (apps) => gql(apps, 'mutation { deleteNote(id: "999999") }', undefined, apps.user.token)],
  ['ROUTE_NOT_FOUND', { method: 'GET', path: '/nowhere' }, (apps) => inject(apps.strict, { method: 'GET', url: '/nowhere?x=1' })],
  ['EMAIL_TAKEN', { field: 'email' }, (apps) => gql(apps, 'mutation ($e: String!) { signUp(input: { name: "Twin", email: $e, password: "correct horse battery" }) { token } }', { e: apps.user.email })],
  ['EMAIL_INVALID', { field: 'email' }, (apps) => gql(apps, 'mutation { signUp(input: { name: "N", email: "not-an-email", password: "correct horse battery" }) { token } }')],
  ['FIRST_OUT_OF_RANGE', { field: 'first', max: 100, got: 101 }, (apps) => gql(apps, '{ users(first: 101) { id } }')],
  ['ID_MALFORMED', { field: 'id', got: 'abc' }, (apps) => gql(apps, '{ note(id: "abc") { id } }')],
  ['TOO_MANY_TAGS', { field: 'tags', max: inputLimits.tagsMax, got: 21 }, (apps) => gql(apps, 'mutation ($t: [String!]) { createNote(input: { title: "t", tags: $t }) { id } }', { t: Array.from({ length: 21 }, (_, index) => `t${index}`) }, apps.user.token)],
  ['TEXT_HAS_NUL', { field: 'title' }, (apps) => gql(apps, 'mutation ($t: String!) { createNote(input: { title: $t }) { id } }', { t: 'a\u0000b' }, apps.user.token)],
  ['TEXT_UNPAIRED_SURROGATE', { field: 'title' }, (apps) => post(apps, '{"query":"mutation ($t: String!) { createNote(input: { title: $t }) { id } }","variables":{"t":"a\\ud800b"}}', { authorization: `Bearer ${apps.user.token}` })],
  ['TEXT_LENGTH', { field: 'title', min: 1, max: 200, got: 0 }, (apps) => gql(apps, 'mutation { createNote(input: { title: "" }) { id } }', undefined, apps.user.token)],
  ['REQUESTS_THROTTLED', { seconds: 60 }, async (apps) => {
    let seen: Seen = { status: 0, body: {} }
    for (let index = 0; index < 3; index++) seen = await inject(apps.throttled, { method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: '{"query":"{ me { id } }"}' })
    return seen
  }],
  ['NOT_ACCEPTABLE', undefined, (apps) => post(apps, '{"query":"{ me { id } }"}', { accept: 'text/html' })],
  ['UNSUPPORTED_MEDIA_TYPE', undefined, (apps) => inject(apps.strict, { method: 'POST', url: '/graphql', headers: { 'content-type': 'application/xml', 'graphql-require-preflight': '1' }, payload: '<me/>' })],
  ['PAYLOAD_TOO_LARGE', undefined, (apps) => post(apps, JSON.stringify({ query: `{ me { id } } #${'x'.repeat(5000)}` }))],
  ['MUTATION_OVER_GET', undefined, (apps) => get(apps, `query=${encodeURIComponent('mutation { deleteNote(id: "1") }')}`)],
  ['CSRF_SUSPECTED', undefined, (apps) => inject(apps.strict, { method: 'POST', url: '/graphql', headers: { 'content-type': 'text/plain' }, payload: '{"query":"{ me { id } }"}' })],
  ['REQUEST_REFUSED', { message: "Body is not valid JSON but content-type is set to 'application/json'" }, (apps) => post(apps, '{"query": ')],
  ['PARAMETER_NOT_JSON', { name: 'variables' }, (apps) => get(apps, `query=${encodeURIComponent('{ me { id } }')}&variables=%7Bnot`)],
  ['PARAMETER_REPEATED', { name: 'variables' }, (apps) => get(apps, `query=${encodeURIComponent('{ me { id } }')}&variables=%7B%7D&variables=%7B%7D`)],
  ['PARAMETER_NOT_OBJECT', { name: 'variables' }, (apps) => post(apps, '{"query":"{ me { id } }","variables":[1]}')],
  ['BODY_NOT_OPERATION', undefined, (apps) => post(apps, '[1]')],
  ['BATCH_EMPTY', undefined, (apps) => post(apps, '[]')],
  ['BATCH_TOO_LARGE', { max: 2, got: 3, expose: true }, (apps) => post(apps, JSON.stringify([1, 2, 3].map(() => ({ query: '{ me { id } }' }))))],
  ['QUERY_MISSING', undefined, (apps) => post(apps, '{"variables":{}}')],
  ['OPERATION_NAME_NOT_STRING', undefined, (apps) => get(apps, `query=${encodeURIComponent('{ me { id } }')}&operationName=a&operationName=b`)],
  ['OPERATION_NAME_REQUIRED', undefined, (apps) => post(apps, '{"query":"query a { me { id } } query b { me { id } }"}')],
  ['OPERATION_NAME_UNKNOWN', { name: 'c', expose: true }, (apps) => post(apps, '{"query":"query a { me { id } }","operationName":"c"}')],
  ['QUERY_NOT_GRAPHQL', undefined, (apps) => post(apps, '{"query":"{}"}')],
  ['DOCUMENT_NOT_PARSED', { message: 'Syntax Error: Expected Name, found <EOF>.' }, (apps) => gql(apps, '{ me { id }')],
  ['DOCUMENT_NOT_VALID', { message: 'Cannot query field "nope" on type "Query". Did you mean "note" or "notes"?' }, (apps) => gql(apps, '{ nope }')],
  ['LIMIT_EXCEEDED', { what: 'aliases', limit: 'MAX_ALIASES', detail: 'Aliases limit of 2 exceeded, found 3.', expose: true }, (apps) => gql(apps, '{ a: me { id } b: me { id } c: me { id } }')],
  ['TOO_MANY_TOKENS', { max: 60, expose: true }, (apps) => gql(apps, `{ ${Array.from({ length: 80 }, () => '__typename').join(' ')} }`)],
  ['COST_OVER_LIMIT', { cost: 100, max: 50, expose: true }, (apps) => gql(apps, '{ users(first: 100) { id } }')],
  // The database's failures, raised by the trigger `before` installs for these titles.
  ['WRITE_CONFLICT', undefined, (apps) => createNote(apps, 'walk: conflict')],
  ['DATABASE_UNAVAILABLE', undefined, (apps) => createNote(apps, 'walk: unavailable')],
  ['INTERNAL', undefined, (apps) => createNote(apps, 'walk: unexpected')]
]

/** A createNote the trigger fails: it must leave no note behind. */
async function createNote (apps: Apps, title: string): Promise<Seen> {
  const seen = await gql(apps, 'mutation ($title: String!) { createNote(input: { title: $title }) { id } }', { title }, apps.user.token)
  const [{ count }] = await apps.strict.database.db.sql`select count(*)::int as count from notes where title = ${title}`
  assert.equal(count, 0, `${title}: nothing written`)
  return seen
}

/** Serialization failure (retried, then CONFLICT), "cannot connect now", and a plain exception. */
const FAULTS_BY_TITLE = `
  create function walk_fault () returns trigger language plpgsql as $$
  begin
    if new.title = 'walk: conflict' then raise exception 'walk' using errcode = '40001'; end if;
    if new.title = 'walk: unavailable' then raise exception 'walk' using errcode = '57P03'; end if;
    if new.title = 'walk: unexpected' then raise exception 'walk'; end if;
    return new;
  end $$;
  create trigger walk_fault before insert on notes for each row execute function walk_fault();`

/** Errors whose path needs a fault or a setting these apps do not have; the test file walks it. */
const walkedElsewhere: Partial<Record<ErrorName, string>> = {
  TOKEN_EXPIRED: 'test/auth/tokens.test.ts',
  TOKEN_USER_GONE: 'test/auth/tokens.test.ts',
  EMAIL_TOO_LONG: 'test/graphql/input-limits.test.ts',
  BODY_TOO_LARGE: 'test/graphql/input-limits.test.ts',
  TIMEOUT: 'test/http/http-budget.test.ts',
  OVERLOADED: 'test/limits/load-shedding.test.ts',
  NOT_STARTED: 'test/faults/database-loss.test.ts',
  NOT_READY_STARTING: 'test/faults/database-loss.test.ts',
  NOT_READY_DATABASE: 'test/http/failures.test.ts',
  LOGIN_THROTTLED: 'test/auth/throttling.test.ts',
  BODY_SHAPE: 'test/http/malformed-requests.test.ts',
  PERSISTED_QUERY_UNKNOWN: 'test/http/persisted-queries.test.ts',
  PERSISTED_QUERY_MALFORMED: 'test/http/persisted-queries.test.ts',
  PERSISTED_QUERY_HASH_MISMATCH: 'test/http/persisted-queries.test.ts',
  DOCUMENT_HASH_NOT_LISTED: 'test/http/persisted-queries.test.ts',
  DOCUMENT_NOT_LISTED: 'test/http/persisted-queries.test.ts'
}

/** Errors no request reaches on purpose: a race the tests cannot time, or a net behind a check. */
const unreachable: Partial<Record<ErrorName, string>> = {
  USER_NOT_FOUND: 'the viewer\'s row deleted between the token check and the resolver',
  PARAMETERS_NOT_JSON: 'Mercurius\' own parse of GET variables: the request check answers PARAMETER_NOT_JSON first',
  BODY_NOT_JSON: 'a framework 400 that http/graphql-errors.ts does not map: Fastify\'s JSON errors are mapped (REQUEST_REFUSED)'
}

describe('every error answered is the catalogue\'s', () => {
  let apps: Apps
  before(async () => {
    const strict = await startTestApp({ ...limits, maxCost: 50 })
    const throttled = await startTestApp({ rateLimitMaxRequests: 2, rateLimitWindowMs: 60_000 }, { database: strict.database })
    apps = { strict, throttled, user: await strict.signUp('Walker') }
    await runAsAdmin(strict.database.url, FAULTS_BY_TITLE)
  })
  after(async () => {
    await apps?.throttled.close()
    await apps?.strict.close()
  })

  for (const [name, values, walk] of walks) {
    test(name, async () => {
      assertCatalogueError(name, await walk(apps), values)
    })
  }

  test('the walks here and elsewhere name every error in the catalogue, and each file named checks it by name', () => {
    const walked = new Set([...walks.map(([name]) => name), ...Object.keys(walkedElsewhere), ...Object.keys(unreachable)])
    assert.deepEqual(Object.keys(errorDefinitions).filter((name) => !walked.has(name as ErrorName)), [])
    // Names are not on the wire: a file names an error only to compare an answer with it through
    // test/helpers/catalogue.ts, which checks the whole error.
    for (const [name, file] of Object.entries(walkedElsewhere)) {
      const text = readFileSync(join(import.meta.dirname, '..', file), 'utf8')
      assert.match(text, /from '(\.\.\/)+helpers\/catalogue\.ts'/, `${file} does not use test/helpers/catalogue.ts (${name})`)
      assert.ok(text.includes(`'${name}'`), `${file} does not name ${name}`)
    }
  })
})

async function inject (target: TestApp, options: InjectOptions): Promise<Seen> {
  const response = await target.app.inject(options)
  let body: Seen['body'] = {}
  try { body = response.json() } catch { body = { errors: [{ message: response.body }] } }
  return { status: response.statusCode, body }
}
