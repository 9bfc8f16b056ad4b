/**
 * `npm run seed -- --users N --notes-per-user M`: a large, deterministic data set for load
 * tests (scripts/seed-data.ts). Idempotent: users that already exist are skipped with their
 * notes, so a re-run (or a run with a larger N) only adds what is missing.
 *
 * Two ways in:
 *  - by default straight into the database (DATABASE_URL, or the embedded one): the password
 *    is hashed once (argon2 is deliberately slow), and rows go in with one multi-row statement
 *    per table per batch (unnest), each batch in one transaction. Default 100 users × 10 notes.
 *  - `--api [--url URL] [--concurrency 32]`: through `signUp` and `createNote` against a running
 *    server, as clients write (scripts/seed-through-api.ts). Every failed request is reported
 *    with its error code and the exit code is 1. Default 200 users × 20 notes.
 */
import { parseArgs } from 'node:util'
import { hashPassword } from '../src/auth/passwords.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/connect.ts'
import type pg from 'pg'
import { sqlOn, withTransaction } from '../src/db/trusted-sql.ts'
import { SEED_PASSWORD, TAG_VOCABULARY, seedEmail, seedNote } from './seed-data.ts'
import { apiSeedDefaults, describeSeedFailures, seedThroughApi } from './seed-through-api.ts'

export { SEED_PASSWORD, seedEmail, seedTags } from './seed-data.ts'

const USERS_PER_BATCH = 500

export interface SeedOptions {
  users: number
  notesPerUser: number
  onProgress?: (done: number, total: number) => void
}

/** Seeds users 1..users; returns how many users it created (existing ones are skipped). */
export async function seed (pool: pg.Pool, { users, notesPerUser, onProgress = () => {} }: SeedOptions): Promise<{ created: number, skipped: number }> {
  const passwordHash = await hashPassword(SEED_PASSWORD)
  const tagIds = await upsertVocabulary(pool)
  let created = 0
  for (let start = 1; start <= users; start += USERS_PER_BATCH) {
    const indexes = range(start, Math.min(users, start + USERS_PER_BATCH - 1))
    created += await seedBatch(pool, indexes, notesPerUser, passwordHash, tagIds)
    onProgress(indexes.at(-1)!, users)
  }
  // Statistics now, not when autovacuum gets round to it (a minute or more later): without
  // them the planner took a batch of 3 note ids for ~4,500 rows and planned parallel workers
  // (a process forked per statement) for every batched read. Measured on 2000 users × 100
  // notes, `npm run bench:cache-memory`: ~100 requests/s until autoanalyze ran, 650–1,100 after.
  if (created > 0) await sqlOn(pool)`analyze users, notes, tags, note_tags`
  return { created, skipped: users - created }
}

// Private:

async function seedBatch (pool: pg.Pool, indexes: number[], notesPerUser: number, passwordHash: string, tagIds: Map<string, string>): Promise<number> {
  return withTransaction(pool, async (tx) => {
    // `on conflict do nothing` skips existing users; only the new ones come back.
    const inserted = await tx`
      insert into users (name, email, password_hash)
      select 'Seed User ' || i, 'seed-user-' || i || '@jotter.test', ${passwordHash}
      from unnest(${indexes}::int[]) as i
      on conflict ((lower(email))) do nothing
      returning id, email`
    if (inserted.length === 0 || notesPerUser === 0) return inserted.length
    const authorIds: string[] = []
    const titles: string[] = []
    const bodies: string[] = []
    const visibilities: string[] = []
    const tagsByTitle = new Map<string, string[]>()
    for (const user of inserted) {
      const i = Number(/^seed-user-(\d+)@/.exec(user.email as string)![1])
      for (let j = 1; j <= notesPerUser; j++) {
        const note = seedNote(i, j)
        authorIds.push(String(user.id))
        titles.push(note.title)
        bodies.push(note.body)
        visibilities.push(note.visibility)
        tagsByTitle.set(note.title, note.tags)
      }
    }
    const notes = await tx`
      insert into notes (author_id, title, body, visibility)
      select * from unnest(${authorIds}::bigint[], ${titles}::text[], ${bodies}::text[], ${visibilities}::text[])
      returning id, title`
    const noteIds: string[] = []
    const noteTagIds: string[] = []
    for (const note of notes) {
      for (const name of tagsByTitle.get(note.title as string)!) {
        noteIds.push(String(note.id))
        noteTagIds.push(tagIds.get(name)!)
      }
    }
    if (noteIds.length > 0) {
      await tx`insert into note_tags (note_id, tag_id) select * from unnest(${noteIds}::bigint[], ${noteTagIds}::bigint[])`
    }
    return inserted.length
  })
}

async function upsertVocabulary (pool: pg.Pool): Promise<Map<string, string>> {
  const sql = sqlOn(pool)
  await sql`insert into tags (name) select unnest(${[...TAG_VOCABULARY]}::text[]) on conflict (name) do nothing`
  const rows = await sql`select id, name from tags where name = any(${[...TAG_VOCABULARY]}::text[])`
  return new Map(rows.map((row) => [row.name as string, String(row.id)]))
}

function range (from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, k) => from + k)
}

function progressBar (done: number, total: number, what = 'users'): void {
  const width = 30
  const filled = Math.round((done / total) * width)
  const line = `seed: [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${what}`
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`)
  else process.stderr.write(`${line}\n`)
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      'notes-per-user': { type: 'string' },
      api: { type: 'boolean', default: false },
      url: { type: 'string', default: 'http://127.0.0.1:8080/graphql' },
      concurrency: { type: 'string', default: String(apiSeedDefaults.concurrency) }
    }
  })
  const users = Number(values.users ?? (values.api ? apiSeedDefaults.users : 100))
  const notesPerUser = Number(values['notes-per-user'] ?? (values.api ? apiSeedDefaults.notesPerUser : 10))
  if (!Number.isSafeInteger(users) || users < 1 || users > 10_000_000) throw new Error(`--users must be an integer from 1 to 10000000: ${values.users}`)
  if (!Number.isSafeInteger(notesPerUser) || notesPerUser < 0 || notesPerUser > 10_000) throw new Error(`--notes-per-user must be an integer from 0 to 10000: ${values['notes-per-user']}`)
  return values.api ? seedApi(values.url!, users, notesPerUser, values.concurrency!) : seedSql(users, notesPerUser)
}

async function seedSql (users: number, notesPerUser: number): Promise<number> {
  const database = await openDatabase(loadConfig(), { log: (message) => console.error(`seed: ${message}`) })
  try {
    await database.ready // migrated, whether embedded or external
    const started = performance.now()
    const { created, skipped } = await seed(database.db.pool, { users, notesPerUser, onProgress: progressBar })
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(`seed: created ${created} users with ${created * notesPerUser} notes, skipped ${skipped} existing users, in ${seconds} s ` +
      `(log in as ${seedEmail(1)} / ${SEED_PASSWORD})`)
    return 0
  } finally {
    await database.close()
  }
}

async function seedApi (url: string, users: number, notesPerUser: number, concurrencyText: string): Promise<number> {
  const concurrency = Number(concurrencyText)
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new Error(`--concurrency must be an integer from 1 to 1000: ${concurrencyText}`)
  if (!URL.canParse(url)) {
    throw new Error(`--url must be the server's GraphQL URL, e.g. http://127.0.0.1:8080/graphql: ${url}`)
  }
  console.error(`seed: ${users} users × ${notesPerUser} notes through the API at ${url}, ${concurrency} requests at once`)
  let lastPercent = -1
  const result = await seedThroughApi({
    url,
    users,
    notesPerUser,
    concurrency,
    onProgress: (done, total) => {
      // The bar counts requests; redraw only when a whole percent has passed.
      const percent = Math.floor(done / total * 100)
      if (percent !== lastPercent || done === total) progressBar(done, total, 'requests')
      lastPercent = percent
    }
  })
  console.log(`seed: created ${result.createdUsers} users and ${result.createdNotes} notes through the API, skipped ${result.skippedUsers} existing users, ` +
    `in ${result.seconds.toFixed(1)} s; ${describeSeedFailures(result.failures)}`)
  return result.failures.total === 0 ? 0 : 1
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().then((code) => process.exit(code), (error) => {
    console.error(`seed: ${(error as Error).message}`)
    process.exit(1)
  })
}
