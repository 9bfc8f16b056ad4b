/**
 * Answers shared across viewers cannot leak. Two app instances on one database (and one Redis
 * when TEST_REDIS_URL is set), random writes — visibility flips, renames, role changes, sign-ups,
 * deletes, new notes, tag changes and renames, through either instance or straight in SQL
 * (outside the API) — interleaved with random reads by random viewers (anonymous, authors, others, admins)
 * through either instance. After each write both instances are synchronised with the database
 * (`bus.sync`: every notification committed before it has been applied), so "at that moment"
 * has one meaning; then every answer served is compared with an uncached execution of the same
 * request for the same viewer on the same instance (`Cache-Control: no-cache`: no lookup, no
 * store). Any difference fails with fast-check's seed and path.
 *
 * SHARED_ANSWERS_CHECKS sets how many answers are checked (default 4,000 here; the release
 * check runs 100,000: docs/caching.md).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

const CHECKS = Number(process.env.SHARED_ANSWERS_CHECKS ?? 4000)
const READS_PER_STEP = 10
const STEPS_PER_RUN = 4
const TAGS = ['red', 'blue', 'green']
const USERS = 5

interface Viewer { id: string | null, token: string | undefined }

const reads: Array<{ query: string, vars: (n: number, users: readonly string[]) => Record<string, unknown> }> = [
  { query: 'query ($id: ID!) { note(id: $id) { id title visibility author { id name } tags { name } } }', vars: (n) => ({ id: String(1 + (n % 30)) }) },
  { query: 'query ($id: ID!) { user(id: $id) { id name email noteCount notes { id title visibility tags { name } } } }', vars: (n, users) => ({ id: users[n % users.length] }) },
  { query: '{ users(first: 20) { id name } }', vars: () => ({}) },
  { query: '{ users(first: 20) { id name email } }', vars: () => ({}) },
  { query: 'query ($first: Int) { notes(first: $first) { id title author { name } } }', vars: (n) => ({ first: 1 + (n % 20) }) },
  { query: 'query ($name: String!) { tag(name: $name) { name notes { id visibility } } }', vars: (n) => ({ name: TAGS[n % TAGS.length] }) },
  { query: '{ me { id name email noteCount } }', vars: () => ({}) },
  { query: 'query ($id: ID!) { user(id: $id) { notes(first: 3) { id author { email } } } }', vars: (n, users) => ({ id: users[n % users.length] }) },
  // No field of the user's row: kept through renames; the ids past the last user are taken by sign-ups.
  { query: 'query ($id: ID!) { user(id: $id) { id noteCount notes { id title visibility } } }', vars: (n, users) => ({ id: String(Number(users.at(-1)) + (n % 4)) }) }
]

const readArb = fc.record({ instance: fc.nat(1), viewer: fc.nat(USERS), read: fc.nat(reads.length - 1), n: fc.nat(1000) })
const writeArb = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), instance: fc.nat(1), author: fc.nat(USERS - 1), visibility: fc.constantFrom('PUBLIC', 'PRIVATE'), tags: fc.subarray(TAGS) }),
  fc.record({ kind: fc.constant('flip' as const), instance: fc.nat(1), note: fc.nat(40), visibility: fc.constantFrom('PUBLIC', 'PRIVATE') }),
  fc.record({ kind: fc.constant('retag' as const), instance: fc.nat(1), note: fc.nat(40), tags: fc.subarray(TAGS) }),
  fc.record({ kind: fc.constant('delete' as const), instance: fc.nat(1), note: fc.nat(40) }),
  fc.record({ kind: fc.constant('rename' as const), instance: fc.nat(1), user: fc.nat(USERS - 1), name: fc.string({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('role' as const), user: fc.nat(USERS - 1), admin: fc.boolean() }),
  fc.record({ kind: fc.constant('sign-up' as const), instance: fc.nat(1) }),
  fc.record({ kind: fc.constant('sql-flip' as const), note: fc.nat(40) }),
  fc.record({ kind: fc.constant('sql-rename-tag' as const), tag: fc.constantFrom(...TAGS) })
)
const stepArb = fc.record({ write: writeArb, reads: fc.array(readArb, { minLength: READS_PER_STEP, maxLength: READS_PER_STEP }) })

let database: TestDatabase
let apps: TestApp[]
const viewers: Viewer[] = []
let userIds: string[] = []
let checked = 0

before(async () => {
  database = await createTestDatabase()
  const redisUrl = process.env.TEST_REDIS_URL
  const shared = { cacheClockSkewMs: 0, ...(redisUrl ? { redisUrl } : {}) }
  apps = [await startTestApp(shared, { database }), await startTestApp(shared, { database })]
  for (let index = 0; index < USERS; index++) {
    const user = await apps[0].signUp(`User${index}`)
    viewers.push({ id: user.id, token: user.token })
  }
  userIds = viewers.map((viewer) => viewer.id!)
  viewers.push({ id: null, token: undefined })
  for (let index = 0; index < 12; index++) {
    await apps[0].gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
      token: viewers[index % USERS].token,
      variables: { input: { title: `seed ${index}`, visibility: index % 2 === 0 ? 'PUBLIC' : 'PRIVATE', tags: [TAGS[index % TAGS.length]] } }
    })
  }
})

after(async () => {
  for (const app of apps ?? []) await app.close()
  await database?.drop()
})

test(`every answer served equals an uncached execution for that viewer at that moment (${CHECKS} checks)`, { timeout: 30 * 60_000 }, async () => {
  const hits = { before: await hitCount() }
  await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: STEPS_PER_RUN, maxLength: STEPS_PER_RUN }), async (steps) => {
    for (const step of steps) {
      await write(step.write)
      await Promise.all(apps.map((app) => app.app.responseCache!.bus.sync(5000)))
      for (const read of step.reads) {
        const app = apps[read.instance]
        const viewer = viewers[read.viewer]
        const { query, vars } = reads[read.read]
        const variables = vars(read.n, userIds)
        const served = await app.gql(query, { token: viewer.token, variables })
        const fresh = await app.gql(query, { token: viewer.token, variables, headers: { 'cache-control': 'no-cache' } })
        checked++
        assert.deepEqual(served.body, fresh.body, `instance ${read.instance}, viewer ${viewer.id ?? 'anonymous'}: ${query} ${JSON.stringify(variables)}`)
      }
    }
  }), { numRuns: Math.ceil(CHECKS / (READS_PER_STEP * STEPS_PER_RUN)), endOnFailure: true })
  assert.ok(checked >= CHECKS, `${checked} checks`)
  // The test must exercise shared entries: many answers come from the cache.
  const served = await hitCount() - hits.before
  assert.ok(served > checked / 10, `only ${served} of ${checked} answers came from the cache`)
})

type Write = typeof writeArb extends fc.Arbitrary<infer T> ? T : never

async function write (action: Write): Promise<void> {
  const noteId = 'note' in action ? String(1 + action.note) : ''
  const ownerToken = async (): Promise<string | undefined> => {
    const rows = await database.db.sql<{ author: string }>`select author_id::text as author from notes where id = ${noteId}`
    return viewers.find((viewer) => viewer.id === rows[0]?.author)?.token
  }
  switch (action.kind) {
    case 'create':
      await apps[action.instance].gql('mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
        token: viewers[action.author].token,
        variables: { input: { title: 'new', visibility: action.visibility, tags: action.tags } }
      })
      return
    case 'flip':
      await apps[action.instance].gql('mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }', { token: await ownerToken(), variables: { id: noteId, input: { visibility: action.visibility } } })
      return
    case 'retag':
      await apps[action.instance].gql('mutation ($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }', { token: await ownerToken(), variables: { id: noteId, input: { tags: action.tags } } })
      return
    case 'delete':
      await apps[action.instance].gql('mutation ($id: ID!) { deleteNote(id: $id) }', { token: await ownerToken(), variables: { id: noteId } })
      return
    case 'rename':
      await apps[action.instance].gql('mutation ($name: String!) { updateUser(input: { name: $name }) { id } }', { token: viewers[action.user].token, variables: { name: action.name } })
      return
    case 'sign-up':
      await apps[action.instance].signUp('Newcomer')
      return
    case 'role':
      // An admin grant or revocation straight in the database: tokens keep their claim, the users row decides.
      await database.db.sql`update users set role = ${action.admin ? 'admin' : 'user'} where id = ${userIds[action.user]}`
      return
    case 'sql-flip':
      await database.db.sql`update notes set visibility = case visibility when 'PUBLIC' then 'PRIVATE' else 'PUBLIC' end where id = ${noteId}`
      return
    case 'sql-rename-tag':
    {
      // Away from its name and back (a new note may have made the old name again): answers
      // showing the tag change each time.
      const renamed = `${action.tag}-renamed`
      const away = await database.db.sql`update tags set name = ${renamed} where name = ${action.tag} and not exists (select 1 from tags where name = ${renamed}) returning id`
      if (away.length === 0) await database.db.sql`update tags set name = ${action.tag} where name = ${renamed} and not exists (select 1 from tags where name = ${action.tag})`
    }
  }
}

async function hitCount (): Promise<number> {
  let total = 0
  for (const app of apps) {
    const text = (await app.app.inject({ method: 'GET', url: '/metrics' })).body
    for (const match of text.matchAll(/^jotter_cache_hits_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1])
  }
  return total
}
