/**
 * `npm run seed -- --users N --notes-per-user M`: a large, deterministic data set for load
 * tests. Users `seed-user-{i}@jotter.test` (password `seed-password`, name `Seed User {i}`),
 * each with M notes titled `Seed note {i}.{j}`, every other one PUBLIC, carrying 0-3 tags from
 * a fixed vocabulary of 20. Idempotent: users that already exist are skipped with their notes,
 * so a re-run (or a run with a larger N) only adds what is missing.
 *
 * Fast by construction: the password is hashed once (argon2 is deliberately slow), and rows go
 * in with one multi-row statement per table per batch (unnest), each batch in one transaction.
 */
import { parseArgs } from 'node:util'
import { hashPassword } from '../src/auth/passwords.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/connect.ts'
import type pg from 'pg'
import { sqlOn, withTransaction } from '../src/db/trusted-sql.ts'

export const SEED_PASSWORD = 'seed-password'
export const seedEmail = (i: number): string => `seed-user-${i}@jotter.test`

const TAG_VOCABULARY = ['work', 'home', 'ideas', 'todo', 'reading', 'travel', 'recipes', 'music', 'health', 'finance',
  'graphql', 'postgres', 'node', 'design', 'meetings', 'journal', 'books', 'garden', 'fitness', 'projects'] as const
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
  return { created, skipped: users - created }
}

/** Tag names of note j of user i: 0-3 distinct names, the same on every run. */
export function seedTags (i: number, j: number): string[] {
  const count = (i + j) % 4
  const names = new Set<string>()
  for (let k = 0; names.size < count; k++) names.add(TAG_VOCABULARY[(i * 7 + j * 3 + k * 5) % TAG_VOCABULARY.length])
  return [...names]
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
        const title = `Seed note ${i}.${j}`
        authorIds.push(String(user.id))
        titles.push(title)
        bodies.push(`Note ${j} of Seed User ${i}. `.repeat(1 + ((i + j) % 5)))
        visibilities.push((i + j) % 2 === 0 ? 'PUBLIC' : 'PRIVATE')
        tagsByTitle.set(title, seedTags(i, j))
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

function progressBar (done: number, total: number): void {
  const width = 30
  const filled = Math.round((done / total) * width)
  const line = `seed: [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} users`
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`)
  else process.stderr.write(`${line}\n`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '100' }, 'notes-per-user': { type: 'string', default: '10' } } })
  const users = Number(values.users)
  const notesPerUser = Number(values['notes-per-user'])
  if (!Number.isSafeInteger(users) || users < 1 || users > 10_000_000) throw new Error(`--users must be an integer from 1 to 10000000: ${values.users}`)
  if (!Number.isSafeInteger(notesPerUser) || notesPerUser < 0 || notesPerUser > 10_000) throw new Error(`--notes-per-user must be an integer from 0 to 10000: ${values['notes-per-user']}`)
  const database = await openDatabase(loadConfig(), { log: (message) => console.error(`seed: ${message}`) })
  try {
    await database.ready // migrated, whether embedded or external
    const started = performance.now()
    const { created, skipped } = await seed(database.db.pool, { users, notesPerUser, onProgress: progressBar })
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(`seed: created ${created} users with ${created * notesPerUser} notes, skipped ${skipped} existing users, in ${seconds} s ` +
      `(log in as ${seedEmail(1)} / ${SEED_PASSWORD})`)
  } finally {
    await database.close()
  }
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error) => {
    console.error(`seed: ${(error as Error).message}`)
    process.exit(1)
  })
}
