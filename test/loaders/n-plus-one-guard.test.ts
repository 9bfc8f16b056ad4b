/**
 * The N+1 guard: nested query shapes, each with 1, 10 and 100 parents, must run the same
 * number of SQL statements (and at most depth + 1). The table holds hand-picked shapes; the
 * schema-derived shapes cover every field, so a resolver added later without a loader fails
 * here too. The last tests install per-parent resolvers and show that the guard trips.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import DataLoader from 'dataloader'
import { naiveResolvers, naiveTagsOfNote } from '../../bench/naive-resolvers.ts'
import { createTokenService } from '../../src/auth/tokens.ts'
import type { RequestContext } from '../../src/graphql/context.ts'
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { seedGraph, type SeededGraph } from '../../tools/seed-graph.ts'
import { assertNoNPlusOne, everyFieldShapes, measureShape, PARENT_COUNTS, queryDepth, type QueryShape } from './statement-guard.ts'

// Statement counts only: the response cache would answer repeats with zero statements, the
// query limits are another test's business, and batches never split at these sizes.
const guardConfig = {
  exposeSqlCount: true,
  cacheEnabled: false,
  loaderMaxBatchSize: 10_000,
  maxDepth: 100,
  maxCost: 100_000_000,
  maxAliases: 1000,
  maxTokens: 100_000
}

let database: TestDatabase
let graph: SeededGraph
let token: string

before(async () => {
  database = await createTestDatabase()
  // 100 users × 4 notes (round-robin), the first user has 100 more; 100 tags + `common`.
  graph = await seedGraph(database.db.sql, { users: 100, notesPerUser: 4, heavyUserExtraNotes: 100, tagPool: 100 })
  token = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 3600 }).issue(graph.userIds[0], 'user')
})
after(() => database.drop())

const tableShapes = (): QueryShape[] => [
  {
    name: 'users { notes { tags { name } author { name } } }',
    query: 'query ($n: Int) { users(first: $n) { id notes(first: 3) { id tags { name } author { name } } } }',
    parents: (data) => data.users,
    children: (data) => data.users.flatMap((u: any) => u.notes.flatMap((n: any) => n.tags))
  },
  {
    name: 'notes { author { notes { title } } }',
    query: 'query ($n: Int) { notes(first: $n) { id author { id notes(first: 3) { title } } } }',
    parents: (data) => data.notes,
    children: (data) => data.notes.flatMap((n: any) => n.author.notes)
  },
  {
    name: 'tag(name) { notes { author { name noteCount } tags { name } } }',
    query: `query ($n: Int) { tag(name: "${graph.commonTag}") { notes(first: $n) { id author { name noteCount } tags { name } } } }`,
    parents: (data) => data.tag.notes,
    children: (data) => data.tag.notes.flatMap((n: any) => n.tags)
  },
  {
    name: 'user(id) { notes { id title tags { name } } }',
    query: `query ($n: Int) { user(id: "${graph.userIds[0]}") { notes(first: $n) { id title tags { name } } } }`,
    parents: (data) => data.user.notes,
    children: (data) => data.user.notes.flatMap((n: any) => n.tags)
  },
  {
    name: 'me { notes { tags { notes { id } } } }',
    query: 'query ($n: Int) { me { notes(first: $n) { id tags { name notes(first: 3) { id } } } } }',
    parents: (data) => data.me.notes,
    children: (data) => data.me.notes.flatMap((n: any) => n.tags.flatMap((t: any) => t.notes))
  }
]

describe('with the loaders', () => {
  let app: TestApp
  before(async () => { app = await startTestApp(guardConfig, { database }) })
  after(() => app.close())

  test('the hand-picked nested shapes run a flat number of statements, at most depth + 1', async (context) => {
    for (const shape of tableShapes()) {
      const counts = await measureShape(app.gql, shape, token)
      assertNoNPlusOne(shape, counts)
      context.diagnostic(`${shape.name}: ${JSON.stringify(counts)} statements by parents (depth ${queryDepth(shape.query)})`)
    }
  })

  test('every field of the schema, four levels down from each list root, runs a flat number of statements', async (context) => {
    const shapes = everyFieldShapes(4)
    assert.ok(shapes.length >= 3, 'users, notes and tags roots at least')
    for (const shape of shapes) {
      const counts = await measureShape(app.gql, shape, token)
      const [first, ...rest] = PARENT_COUNTS.map((n) => counts[n])
      for (const count of rest) assert.equal(count, first, `${shape.name}: N+1: ${JSON.stringify(counts)}`)
      context.diagnostic(`${shape.name}: ${JSON.stringify(counts)} statements by parents`)
    }
  })

  test('the statement count is absent unless EXPOSE_SQL_COUNT=true', async () => {
    const plain = await startTestApp({ ...guardConfig, exposeSqlCount: false }, { database })
    try {
      const result = await plain.gql('{ users(first: 1) { id } }')
      assert.equal(result.status, 200)
      assert.equal(result.body.extensions, undefined)
    } finally {
      await plain.close()
    }
  })

  test('error responses carry the count too', async () => {
    const result = await app.gql('{ users(first: 101) { id } }')
    assert.equal(result.body.errors?.[0].extensions?.code, 'BAD_USER_INPUT')
    assert.equal(result.body.extensions?.sqlStatements, 0)
  })
})

describe('the guard trips', () => {
  test('when the tagsByNote loader is swapped for one statement per note', async () => {
    const app = await startTestApp(guardConfig, { database })
    try {
      // The loader still batches its keys, but its batch function asks once per key: the
      // per-parent resolver a hurried change would write, hidden behind the loader's name.
      app.app.graphql.addHook('preExecution', async (_schema, _document, context) => {
        const ctx = context as unknown as RequestContext
        // An own property shadows the lazy getter (loaders.ts) for this request.
        Object.defineProperty(ctx.loaders, 'tagsByNote', {
          value: new DataLoader<string, unknown>((ids) => Promise.all(ids.map((id) => naiveTagsOfNote(ctx, id))))
        })
      })
      await expectGuardToTrip(app, tableShapes()[0])
    } finally {
      await app.close()
    }
  })

  test('when a resolver runs its own query per parent (caught by the schema-derived shapes too)', async () => {
    const app = await startTestApp(guardConfig, { database })
    try {
      app.app.graphql.defineResolvers({ User: { noteCount: naiveResolvers.User.noteCount } })
      await expectGuardToTrip(app, tableShapes()[2])
      // No table entry names users { noteCount }: the schema walk finds it anyway.
      await expectGuardToTrip(app, everyFieldShapes(4).find((shape) => shape.name.startsWith('users '))!)
    } finally {
      await app.close()
    }
  })
})

// Private:

async function expectGuardToTrip (app: TestApp, shape: QueryShape): Promise<void> {
  const counts = await measureShape(app.gql, shape, token)
  assert.ok(counts[1] < counts[10] && counts[10] < counts[100], `expected growth with parents: ${JSON.stringify(counts)}`)
  assert.throws(() => assertNoNPlusOne(shape, counts), /N\+1/)
}
