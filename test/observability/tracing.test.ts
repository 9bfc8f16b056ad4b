/**
 * Traces: the span tree of a GraphQL request (request → cache lookup, execution → SQL) with an
 * in-memory exporter; statement text without values; nothing registered when tracing is off.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { configWith, type Config } from '../../src/config.ts'
import type { Database } from '../../src/db/gateway.ts'
import { registerTracing } from '../../src/observability/tracing.ts'
import { TEST_JWT_SECRET } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

const exporter = new InMemorySpanExporter()
let database: TestDatabase
let traced: FastifyInstance
let untraced: FastifyInstance
const dataDirs: string[] = []

function testConfig (overrides: Partial<Config> = {}): Readonly<Config> {
  return configWith({
    databaseUrl: database.url,
    jwtSecret: TEST_JWT_SECRET,
    logLevel: 'silent',
    seedDemoData: false,
    dataDir: dataDirs[dataDirs.push(mkdtempSync(join(tmpdir(), 'jotter-test-data-'))) - 1],
    ...overrides
  })
}

before(async () => {
  database = await createTestDatabase()
  traced = await buildApp(testConfig({ cacheEnabled: false }), { database, spanExporter: exporter })
  untraced = await buildApp(testConfig(), { database })
})
after(async () => {
  await traced.close()
  await untraced.close()
  await database.drop()
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

async function post (app: FastifyInstance, query: string, variables?: object, token?: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify({ query, variables })
  })
  return response.json()
}

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId

test('a request span with the GraphQL execution under it and one span per SQL statement under that', async () => {
  const signUp = await post(traced, 'mutation ($input: SignUpInput!) { signUp(input: $input) { token } }',
    { input: { name: 'Tracy', email: 'tracy@example.test', password: 'a long password' } })
  const token = signUp.data.signUp.token
  await post(traced, 'mutation { createNote(input: { title: "traced", visibility: PUBLIC, tags: ["t"] }) { id } }', undefined, token)
  exporter.reset()

  const secretTitle = 'needle-value-7731'
  const result = await post(traced, 'query Traced($tag: String) { notes(first: 5, tag: $tag) { title author { name } } }', { tag: secretTitle })
  assert.deepEqual(result.data.notes, [])
  const spans = exporter.getFinishedSpans()
  const [root, ...otherRoots] = spans.filter((span) => parentOf(span) === undefined)
  assert.deepEqual(otherRoots, [], 'one trace root per request')
  assert.equal(root.name, 'POST /graphql')
  assert.equal(root.attributes['http.response.status_code'], 200)
  const execution = spans.find((span) => span.name === 'graphql.execute')!
  assert.ok(execution, 'an execution span')
  assert.equal(parentOf(execution), root.spanContext().spanId)
  assert.equal(execution.spanContext().traceId, root.spanContext().traceId)
  assert.equal(execution.attributes['graphql.operation.name'], 'Traced')
  assert.equal(execution.attributes['graphql.operation.type'], 'query')

  const statements = spans.filter((span) => span.name.startsWith('sql '))
  assert.ok(statements.length >= 1, 'the notes page statement is traced')
  for (const statement of statements) {
    assert.equal(parentOf(statement), execution.spanContext().spanId, `${statement.name} is a child of the execution`)
    const text = String(statement.attributes['db.query.text'])
    assert.match(text, /select/i)
    assert.ok(!text.includes(secretTitle), 'values are never in the statement text')
    assert.ok(statement.startTime[0] * 1e3 + statement.startTime[1] / 1e6 >= execution.startTime[0] * 1e3 + execution.startTime[1] / 1e6 - 1)
  }
  assert.equal(statements[0].attributes['db.operation.name'], statements[0].name.slice(4))
})

test('a mutation\'s statement is traced under the execution too', async () => {
  const signUp = await post(traced, 'mutation ($input: SignUpInput!) { signUp(input: $input) { token } }',
    { input: { name: 'Tx', email: 'tx@example.test', password: 'a long password' } })
  const token = signUp.data.signUp.token
  const created = await post(traced, 'mutation { createNote(input: { title: "before" }) { id } }', undefined, token)
  exporter.reset()
  await post(traced, 'mutation ($id: ID!) { updateNote(id: $id, input: { title: "changed", tags: ["a"] }) { id } }', { id: created.data.createNote.id }, token)
  const spans = exporter.getFinishedSpans()
  const execution = spans.find((span) => span.name === 'graphql.execute')!
  const names = spans.filter((span) => parentOf(span) === execution.spanContext().spanId).map((span) => span.name)
  // One statement: the note, its lock and its tags in one call (migrations/003).
  assert.deepEqual(names.filter((name) => name.startsWith('sql ')), ['sql updateNote'])
})

test('a wrapped route preHandler (the response cache) becomes a child span of the request', async () => {
  const fake = { observe: () => () => {} } as unknown as Database
  const ownExporter = new InMemorySpanExporter() // closing the app shuts its exporter down
  const app = Fastify()
  const tracing = registerTracing(app, { endpoint: undefined, db: fake, exporter: ownExporter })!
  app.post('/graphql', {
    preHandler: [tracing.wrapPreHandler('cache.lookup', (request, _reply, done) => { (request as { cacheStatus?: string }).cacheStatus = 'miss'; done() })]
  }, async () => ({ ok: true }))
  // A hit answers from the preHandler and never calls done: its span must end all the same.
  app.post('/answered', {
    preHandler: [tracing.wrapPreHandler('cache.lookup', (request, reply) => {
      (request as { cacheStatus?: string }).cacheStatus = 'hit'
      reply.send({ stored: true })
    })]
  }, async () => ({ ok: false }))
  const response = await app.inject({ method: 'POST', url: '/graphql', payload: {} })
  assert.equal(response.statusCode, 200)
  const answered = await app.inject({ method: 'POST', url: '/answered', payload: {} })
  assert.deepEqual(answered.json(), { stored: true })
  const spans = ownExporter.getFinishedSpans()
  await app.close()
  const roots = spans.filter((span) => span.name.startsWith('POST /'))
  const lookups = spans.filter((span) => span.name === 'cache.lookup')
  assert.equal(lookups.length, 2, 'both lookup spans ended')
  for (const lookup of lookups) assert.ok(roots.some((root) => parentOf(lookup) === root.spanContext().spanId))
  assert.deepEqual(lookups.map((span) => span.attributes['jotter.cache.status']).sort(), ['hit', 'miss'])
})

test('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): no tracing hooks or decorations at all', async () => {
  assert.equal(traced.hasRequestDecorator('traceSpans'), true)
  assert.equal(untraced.hasRequestDecorator('traceSpans'), false)
  exporter.reset()
  const result = await post(untraced, '{ notes(first: 1) { id } }')
  assert.ok(Array.isArray(result.data.notes))
  assert.deepEqual(exporter.getFinishedSpans(), [], 'the untraced app exported nothing')
  await post(traced, '{ notes(first: 1) { id } }')
  assert.ok(exporter.getFinishedSpans().length > 0, 'while the traced app, same process, did')
  const app = Fastify()
  assert.equal(registerTracing(app, { endpoint: undefined, db: {} as Database }), null)
  await app.close()
})
