/**
 * `npm run seed -- --api`: the seed's data set written the way clients write it, through
 * `signUp` and `createNote` against a running server, many at once. Unlike the SQL seed this
 * exercises the write path: concurrent note creation with overlapping tags is exactly where
 * tag upserts contend, so every failure is counted by its error code, not retried away.
 *
 * First every user signs up (argon2 makes these slow on purpose), then the notes go in, note 1
 * of every user before note 2 of any, so the requests in flight belong to different users and
 * share tags. A user whose email is already registered is skipped with its notes, like the SQL
 * seed skips existing users.
 */
import { performance } from 'node:perf_hooks'
import { createGraphqlClient } from '../bench/load/graphql-client.ts'
import type { SeededUser } from '../bench/load/request-mix.ts'
import { SEED_PASSWORD, seedEmail, seedNote, seedUserName } from './seed-data.ts'

export interface ApiSeedOptions {
  /** The GraphQL endpoint. */
  url: string
  users: number
  notesPerUser: number
  /** Requests in flight at once. */
  concurrency: number
  /** Per request; default 30000. */
  timeoutMs?: number
  /** After each request: how many of all are done. */
  onProgress?: (done: number, total: number) => void
}

export interface ApiSeedFailure {
  operation: 'signUp' | 'createNote'
  /** As the load report names errors: "graphql SERVICE_UNAVAILABLE", "timeout", ... */
  errorType: string
  message: string
}

export interface ApiSeedResult {
  /** The users this run signed up, with their tokens and the notes it created for them. */
  users: SeededUser[]
  createdUsers: number
  createdNotes: number
  /** Already registered: not touched. */
  skippedUsers: number
  failures: { total: number, byType: Record<string, number>, byOperation: Record<string, number>, first: ApiSeedFailure[] }
  seconds: number
}

export const apiSeedDefaults = Object.freeze({ users: 200, notesPerUser: 20, concurrency: 32, timeoutMs: 30_000 })

const SIGN_UP = 'mutation signUp($input: SignUpInput!) { signUp(input: $input) { token user { id } } }'
const CREATE_NOTE = 'mutation createNote($input: CreateNoteInput!) { createNote(input: $input) { id visibility } }'
const KEPT_EXAMPLES = 5

export async function seedThroughApi (options: ApiSeedOptions): Promise<ApiSeedResult> {
  for (const [name, value, min] of [['users', options.users, 1], ['notesPerUser', options.notesPerUser, 0], ['concurrency', options.concurrency, 1]] as const) {
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer of at least ${min}: ${value}`)
  }
  const started = performance.now()
  const client = createGraphqlClient({ url: options.url, connections: options.concurrency, timeoutMs: options.timeoutMs ?? apiSeedDefaults.timeoutMs })
  const total = options.users * (1 + options.notesPerUser)
  const failures: ApiSeedResult['failures'] = { total: 0, byType: {}, byOperation: {}, first: [] }
  const fail = (failure: ApiSeedFailure): void => {
    failures.total++
    failures.byType[failure.errorType] = (failures.byType[failure.errorType] ?? 0) + 1
    failures.byOperation[failure.operation] = (failures.byOperation[failure.operation] ?? 0) + 1
    if (failures.first.length < KEPT_EXAMPLES) failures.first.push(failure)
  }
  let done = 0
  const progress = (): void => options.onProgress?.(++done, total)

  // Index i - 1 holds user i; undefined = skipped or failed.
  const users: Array<SeededUser | undefined> = new Array(options.users)
  let skippedUsers = 0
  let createdNotes = 0
  try {
    await runAll(options.users, options.concurrency, async (index) => {
      const i = index + 1
      const outcome = await client.request(SIGN_UP, { input: { name: seedUserName(i), email: seedEmail(i), password: SEED_PASSWORD } }, null)
      if (outcome.ok) {
        const signUp = outcome.data.signUp as { token: string, user: { id: string } }
        users[index] = { id: String(signUp.user.id), token: signUp.token, ownNotes: [] }
      } else if (outcome.errorType === 'graphql BAD_USER_INPUT' && /already registered/.test(outcome.message)) {
        skippedUsers++
        done += options.notesPerUser
      } else {
        fail({ operation: 'signUp', errorType: outcome.errorType, message: `${seedEmail(i)}: ${outcome.message}` })
        done += options.notesPerUser
      }
      progress()
    })

    const ready = users.flatMap((user, index) => user === undefined ? [] : [{ user, i: index + 1 }])
    await runAll(ready.length * options.notesPerUser, options.concurrency, async (index) => {
      const { user, i } = ready[index % ready.length]
      const j = Math.floor(index / ready.length) + 1
      const outcome = await client.request(CREATE_NOTE, { input: seedNote(i, j) }, user.token)
      if (outcome.ok) {
        const note = outcome.data.createNote as { id: string, visibility: 'PUBLIC' | 'PRIVATE' }
        user.ownNotes!.push({ id: String(note.id), visibility: note.visibility })
        createdNotes++
      } else {
        fail({ operation: 'createNote', errorType: outcome.errorType, message: `${seedNote(i, j).title}: ${outcome.message}` })
      }
      progress()
    })
  } finally {
    await client.close()
  }
  const created = users.filter((user): user is SeededUser => user !== undefined)
  return { users: created, createdUsers: created.length, createdNotes, skippedUsers, failures, seconds: (performance.now() - started) / 1000 }
}

/** "4 failures: graphql SERVICE_UNAVAILABLE 3, timeout 1 (createNote 4); first: …" or "no failures". */
export function describeSeedFailures (failures: ApiSeedResult['failures']): string {
  if (failures.total === 0) return 'no failures'
  const list = (counts: Record<string, number>): string => Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${count}`).join(', ')
  return `${failures.total} failures: ${list(failures.byType)} (${list(failures.byOperation)}); first: ` +
    failures.first.map((failure) => `${failure.operation} ${failure.errorType} (${failure.message})`).join('; ')
}

// Private:

/** Calls `task(0..count-1)` with at most `concurrency` in flight; a task must not throw. */
async function runAll (count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}
