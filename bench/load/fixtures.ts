/**
 * The setup phase, before any timed request: log in the seeded users and collect real user and
 * note ids, all through the GraphQL API (the generator never touches the database, so it can
 * run against any deployment that was seeded with `npm run seed -- --users N`).
 */
import { createGraphqlClient } from './graphql-client.ts'
import type { GraphqlClient } from './graphql-client.ts'
import type { Fixtures, MixEntry, SeededUser } from './request-mix.ts'
import type { OwnNote } from './write-planner.ts'

export interface FixtureOptions {
  /** The GraphQL endpoint. */
  url: string
  /** How many seeded users to log in: seed-user-1 .. seed-user-N. */
  users: number
  /** Default "seed-password", what the seed script sets. */
  password?: string
  /** Default `seed-user-${i}@jotter.test`, what the seed script creates. */
  emailOf?: (index: number) => string
  /** Logins in flight at once. Default 8: argon2 costs ~30 ms of server CPU each. */
  loginConcurrency?: number
  /** Cap on user ids and on note ids collected. Default 5000. */
  maxIds?: number
  /** Per setup request. Default 30000 (argon2 under a busy server is slow). */
  timeoutMs?: number
  /** Also collect up to this many of each user's own notes (for updateNote writes). Default 0. */
  ownNotesPerUser?: number
}

export const fixtureDefaults = Object.freeze({
  password: 'seed-password',
  emailOf: (index: number): string => `seed-user-${index}@jotter.test`,
  loginConcurrency: 8,
  maxIds: 5000,
  timeoutMs: 30_000
})

/**
 * How many of each user's own notes the logins must list: updateNote writes act on the
 * viewer's own notes, so a mix that has them (or any share of writes) needs some; 0 otherwise.
 */
export function ownNotesPerUserFor (entries: readonly MixEntry[], writeShare = 0): number {
  return entries.some((entry) => 'write' in entry && entry.name === 'updateNote') || writeShare > 0 ? OWN_NOTES_PER_USER : 0
}

const OWN_NOTES_PER_USER = 20

export const LOGIN_MUTATION = 'mutation login($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id } } }'
/** The login that also lists the user's own notes (`first` in a variable, so the text stays fixed). */
export const LOGIN_WITH_NOTES_MUTATION = 'mutation login($email: String!, $password: String!, $notes: Int!) { login(email: $email, password: $password) { token user { id notes(first: $notes) { id visibility } } } }'

export async function collectFixtures (options: FixtureOptions): Promise<Fixtures> {
  if (!Number.isInteger(options.users) || options.users < 1) throw new RangeError(`users must be a positive integer: ${options.users}`)
  const password = options.password ?? fixtureDefaults.password
  const emailOf = options.emailOf ?? fixtureDefaults.emailOf
  const concurrency = options.loginConcurrency ?? fixtureDefaults.loginConcurrency
  const maxIds = options.maxIds ?? fixtureDefaults.maxIds
  const ownNotes = options.ownNotesPerUser ?? 0
  const client = createGraphqlClient({ url: options.url, connections: concurrency, timeoutMs: options.timeoutMs ?? fixtureDefaults.timeoutMs })

  try {
    const users: SeededUser[] = new Array(options.users)
    let nextIndex = 0
    const loginWorker = async (): Promise<void> => {
      while (nextIndex < options.users) {
        const slot = nextIndex++
        const email = emailOf(slot + 1)
        const data = await (ownNotes > 0
          ? client.data('login', LOGIN_WITH_NOTES_MUTATION, { email, password, notes: ownNotes }, null)
          : client.data('login', LOGIN_MUTATION, { email, password }, null)
        ).catch((error: Error) => {
          throw new Error(`login of ${email} failed (seed the database with \`npm run seed -- --users ${options.users}\`?): ${error.message}`)
        })
        const login = (data as { login?: { token?: unknown, user?: { id?: unknown, notes?: unknown } } }).login
        if (typeof login?.token !== 'string' || login.user?.id == null) throw new Error(`login of ${email} returned no token and user id: ${JSON.stringify(data)}`)
        users[slot] = { id: String(login.user.id), token: login.token }
        if (ownNotes > 0) users[slot].ownNotes = ownNotesOf(login.user.notes)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, options.users) }, loginWorker))

    // Any viewer will do for ids: it sees public notes plus its own, all valid to request.
    const viewerToken = users[0].token
    const userIds = await collectIdPages(client, 'users', viewerToken, maxIds)
    const noteIds = await collectIdPages(client, 'notes', viewerToken, maxIds)
    return { users, userIds, noteIds }
  } finally {
    await client.close()
  }
}

// Private:

function ownNotesOf (notes: unknown): OwnNote[] {
  if (!Array.isArray(notes)) return []
  return notes
    .filter((note: { id?: unknown, visibility?: unknown } | null) => note?.id != null && (note.visibility === 'PUBLIC' || note.visibility === 'PRIVATE'))
    .map((note: { id: unknown, visibility: OwnNote['visibility'] }) => ({ id: String(note.id), visibility: note.visibility }))
}

/**
 * Pages `field(first: 100, after: <last id>) { id }`. The cursor goes in as a string literal,
 * which GraphQL accepts for an ID or a String argument alike.
 */
async function collectIdPages (client: GraphqlClient, field: 'users' | 'notes', token: string, maxIds: number): Promise<string[]> {
  const pageSize = 100
  const ids: string[] = []
  const seen = new Set<string>()
  let after: string | null = null
  while (ids.length < maxIds) {
    const cursor: string = after === null ? '' : `, after: ${JSON.stringify(after)}`
    const data = await client.data(`${field} ids`, `query loadTest${field}Ids { ${field}(first: ${pageSize}${cursor}) { id } }`, {}, token)
    const page = (data as Record<string, unknown>)[field]
    if (!Array.isArray(page)) throw new Error(`${field} ids: expected a list, got ${JSON.stringify(page)?.slice(0, 200)}`)
    let added = 0
    for (const item of page as Array<{ id?: unknown }>) {
      if (item?.id == null) continue
      const id = String(item.id)
      // A server that ignores `after` would hand out page one forever; stop at the first repeat.
      if (seen.has(id)) continue
      seen.add(id)
      ids.push(id)
      added++
      if (ids.length >= maxIds) break
    }
    if (page.length < pageSize || added === 0) break
    after = ids[ids.length - 1]
  }
  return ids
}
