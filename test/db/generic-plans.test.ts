/**
 * The pool plans each named statement once (plan_cache_mode = force_generic_plan, connect.ts).
 * So every read the repositories send must do, with its generic plan, no more work than with a
 * plan made for its parameter values (buffers read, EXPLAIN ANALYZE), and never read users,
 * notes or note_tags whole; on a seeded and analyzed database, for every kind of viewer (each
 * gets its own SQL text).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type pg from 'pg'
import { anonymousViewer, userViewer, type Viewer } from '../../src/viewer.ts'
import { configWith } from '../../src/config.ts'
import { createPool, openPool } from '../../src/db/connect.ts'
import { unbudgetedScope, type Database } from '../../src/db/gateway.ts'
import { createRepositories, type Repositories } from '../../src/db/repositories.ts'
import { compile, sql } from '../../src/db/sql-template.ts'
import { seed } from '../../scripts/seed.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

let database: TestDatabase
let pool: pg.Pool
let ids: { users: string[], notes: string[], tags: string[], tagNames: string[] }

before(async () => {
  database = await createTestDatabase()
  // 2,000 users, 6,000 notes and ~9,000 links over 20 tags: large enough that a statement
  // without a usable index scans far more than it returns. seed() ends with ANALYZE.
  await seed(database.db.pool, { users: 2000, notesPerUser: 3 })
  const sqlOnPool = database.db.sql
  ids = {
    users: (await sqlOnPool`select id::text from users order by id limit 3`).map((row) => row.id as string),
    notes: (await sqlOnPool`select id::text from notes order by id limit 10`).map((row) => row.id as string),
    tags: (await sqlOnPool`select id::text from tags order by id limit 2`).map((row) => row.id as string),
    tagNames: (await sqlOnPool`select name from tags order by id limit 2`).map((row) => row.name as string)
  }
  pool = createPool(database.url, configWith({ dbPoolMax: 1, dbTimeoutMs: 20_000 }))
})
after(async () => {
  await pool.end()
  await database.drop()
})

interface Recorded { name: string, text: string, values: unknown[] }

/** Every read the repositories send for `viewer`, run for real and recorded with its values. */
async function readsOf (viewer: Viewer): Promise<Recorded[]> {
  const recorded: Recorded[] = []
  const db = database.db
  const recording: Database = {
    ...db,
    read: (scope, name, build) => {
      recorded.push({ name, ...compile(build(sql)) })
      return db.read(scope, name, build)
    }
  }
  const { users, notes, tags }: Repositories = createRepositories(recording)
  const scope = unbudgetedScope()
  const windows = ids.users.map((parentId) => ({ parentId, first: 20, after: null }))
  await notes.byIds(scope, viewer, ids.notes)
  await notes.byAuthors(scope, viewer, windows)
  await notes.byTags(scope, viewer, ids.tags.map((parentId) => ({ parentId, first: 20, after: null })))
  await notes.countsByAuthors(scope, viewer, ids.users)
  await notes.page(scope, viewer, { first: 20, after: ids.notes[0] }, null)
  await notes.page(scope, viewer, { first: 20, after: null }, ids.tagNames[0])
  await tags.byNoteIds(scope, viewer, ids.notes)
  await tags.byNames(scope, viewer, ids.tagNames)
  await tags.page(scope, viewer, { first: 20, after: null })
  await users.byIds(scope, ids.users)
  await users.pages(scope, [{ first: 20, after: null }])
  await users.credentialsByEmail(scope, 'seed-user-1@jotter.test')
  return recorded
}

type PlanMode = 'force_generic_plan' | 'force_custom_plan'

/** The statement run once on a pooled connection, planned as `mode` says: its plan and the buffers it read. */
async function executed (client: pg.PoolClient, statement: Recorded, mode: PlanMode): Promise<{ plan: PlanNode, blocks: number }> {
  const literals = statement.values.map((value) => value === null ? 'null' : client.escapeLiteral(asText(value)))
  await client.query('begin')
  try {
    await client.query(`set local plan_cache_mode = ${mode}`)
    await client.query(`prepare generic_plan_probe as ${statement.text}`)
    const { rows } = await client.query(`explain (analyze, buffers, format json) execute generic_plan_probe${literals.length > 0 ? `(${literals.join(', ')})` : ''}`)
    const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0].Plan
    return { plan, blocks: plan['Shared Hit Blocks'] + plan['Shared Read Blocks'] }
  } finally {
    // A prepared statement outlives its transaction.
    await client.query('rollback')
    await client.query('deallocate generic_plan_probe')
  }
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Shared Hit Blocks': number
  'Shared Read Blocks': number
  Plans?: PlanNode[]
}

function scansOf (node: PlanNode): PlanNode[] {
  return [...(node['Relation Name'] === undefined ? [] : [node]), ...(node.Plans ?? []).flatMap(scansOf)]
}

/** An array as PostgreSQL's text form of it; the rest as text. */
function asText (value: unknown): string {
  if (Array.isArray(value)) return `{${value.map((item) => `"${String(item).replace(/["\\]/g, '\\$&')}"`).join(',')}}`
  return String(value)
}

// tags (20 rows here) may be read whole: the planner hashes it for a join whatever the mode.
const BIG_TABLES = new Set(['users', 'notes', 'note_tags'])

test('the pool plans statements generically', async () => {
  const client = await pool.connect()
  try {
    const { rows } = await client.query('show plan_cache_mode')
    assert.equal(rows[0].plan_cache_mode, 'force_generic_plan')
  } finally {
    client.release()
  }
})

for (const [kind, viewer] of [['anonymous', anonymousViewer], ['user', userViewer('1', 'user')], ['admin', userViewer('2', 'admin')]] as const) {
  test(`every read's generic plan reads no more than a plan made for its values, and no big table whole (viewer: ${kind})`, async () => {
    const statements = await readsOf(viewer)
    assert.ok(statements.length >= 12, `recorded ${statements.length} reads`)
    const problems: string[] = []
    const client = await pool.connect()
    try {
      for (const statement of statements) {
        const generic = await executed(client, statement, 'force_generic_plan')
        const custom = await executed(client, statement, 'force_custom_plan')
        for (const scan of scansOf(generic.plan)) {
          if (scan['Node Type'] === 'Seq Scan' && BIG_TABLES.has(scan['Relation Name']!)) problems.push(`${statement.name}: Seq Scan on ${scan['Relation Name']}`)
        }
        // A few blocks of slack: the two plans may visit a page of an index in another order.
        if (generic.blocks > custom.blocks * 1.25 + 4) problems.push(`${statement.name}: ${generic.blocks} blocks planned once, ${custom.blocks} planned for its values`)
      }
    } finally {
      client.release()
    }
    assert.deepEqual(problems, [])
  })
}

test('named statements on a pooled connection are planned once, generically', async () => {
  const config = configWith({ dbPoolMax: 1, dbTimeoutMs: 20_000, dbPreparedStatements: true })
  const db = openPool(createPool(database.url, config), config)
  try {
    const { notes, users } = createRepositories(db)
    const viewer = userViewer(ids.users[0], 'user')
    const scope = unbudgetedScope()
    // More than the five executions after which `auto` would first consider a generic plan.
    for (let run = 0; run < 7; run++) {
      await notes.byIds(scope, viewer, [ids.notes[run]])
      await notes.byAuthors(scope, viewer, [{ parentId: ids.users[run % 3], first: 20, after: null }])
      await users.pages(scope, [{ first: 20, after: null }])
    }
    const prepared = await db.read<{ statement: string, generic: number, custom: number }>(scope, 'preparedPlans', (sql) => sql`
      select statement, generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements
      where (statement like '%unnest%' or statement like '%from notes n%') and statement not like '%pg_prepared_statements%'`)
    assert.equal(prepared.length, 3, JSON.stringify(prepared))
    for (const row of prepared) assert.deepEqual({ generic: row.generic, custom: row.custom }, { generic: 7, custom: 0 }, row.statement)
  } finally {
    await db.close()
  }
})
