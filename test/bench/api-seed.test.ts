/**
 * `npm run seed -- --api`: signUp then createNote against a fake Jotter that can be told to
 * fail. Every failure is counted by its error code and makes the command exit non-zero; a
 * user already registered is skipped, not a failure; requests overlap up to --concurrency.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { seedNote } from '../../scripts/seed-data.ts'
import { seedThroughApi } from '../../scripts/seed-through-api.ts'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

describe('seeding through the API', () => {
  let fake: FakeJotter
  before(async () => { fake = await startFakeJotter() })
  after(async () => { await new Promise<void>((resolve) => fake.server.close(() => resolve())) })

  test('signs every user up, then creates the seed\'s notes with their tags, note 1 of each user first, up to the concurrency', async () => {
    fake.reset({})
    const result = await seedThroughApi({ url: fake.url, users: 6, notesPerUser: 3, concurrency: 4 })
    assert.deepEqual(result.failures, { total: 0, byType: {}, byOperation: {}, first: [] })
    assert.equal(result.createdUsers, 6)
    assert.equal(result.createdNotes, 18)
    // Nothing else can be sent before one of the first four answers: they are note 1 of users 1-4.
    assert.deepEqual(fake.arrivals.filter((title) => title.startsWith('Seed note')).slice(0, 4).sort(), [1, 2, 3, 4].map((i) => `Seed note ${i}.1`))
    assert.deepEqual(fake.notes.find((note) => note.title === 'Seed note 4.2'), { ...seedNote(4, 2), viewer: fake.userIdOf('seed-user-4@jotter.test') })
    assert.equal(fake.maxInFlight, 4)
    assert.deepEqual(result.users.map((user) => user.ownNotes!.length), [3, 3, 3, 3, 3, 3])
  })

  test('counts failures by code and operation; an already registered user is skipped with its notes', async () => {
    fake.reset({ registered: ['seed-user-2@jotter.test'], failNotes: { 'Seed note 1.2': 'SERVICE_UNAVAILABLE', 'Seed note 3.1': 'INTERNAL_SERVER_ERROR', 'Seed note 3.2': 'SERVICE_UNAVAILABLE' } })
    const result = await seedThroughApi({ url: fake.url, users: 3, notesPerUser: 2, concurrency: 8 })
    assert.equal(result.skippedUsers, 1)
    assert.equal(result.createdUsers, 2)
    assert.equal(result.createdNotes, 1)
    assert.equal(result.failures.total, 3)
    assert.deepEqual(result.failures.byType, { 'graphql SERVICE_UNAVAILABLE': 2, 'graphql INTERNAL_SERVER_ERROR': 1 })
    assert.deepEqual(result.failures.byOperation, { createNote: 3 })
  })

  test('the command exits 1 and names the codes on any failure, 0 when all went in', async () => {
    fake.reset({ failNotes: { 'Seed note 2.1': 'SERVICE_UNAVAILABLE' } })
    const failing = await runSeed(['--api', '--url', fake.url, '--users', '2', '--notes-per-user', '1', '--concurrency', '2'])
    assert.equal(failing.code, 1, failing.output)
    assert.match(failing.output, /1 failures: graphql SERVICE_UNAVAILABLE 1 \(createNote 1\)/)
    fake.reset({})
    const passing = await runSeed(['--api', '--url', fake.url, '--users', '2', '--notes-per-user', '1'])
    assert.equal(passing.code, 0, passing.output)
    assert.match(passing.output, /created 2 users and 2 notes through the API, skipped 0 existing users, in [\d.]+ s; no failures/)
    const unreachable = await runSeed(['--api', '--url', 'http://127.0.0.1:1/graphql', '--users', '1', '--notes-per-user', '1'])
    assert.equal(unreachable.code, 1, unreachable.output)
    assert.match(unreachable.output, /signUp network ECONNREFUSED/)
  })
})

// Helpers:

interface FakeJotter {
  server: Server
  url: string
  notes: Array<ReturnType<typeof seedNote> & { viewer: string }>
  /** Note titles in the order their requests arrived. */
  arrivals: string[]
  maxInFlight: number
  userIdOf (email: string): string
  reset (options: { registered?: string[], failNotes?: Record<string, string> }): void
}

/** signUp and createNote only, with failures on demand; a small delay so requests overlap. */
async function startFakeJotter (): Promise<FakeJotter> {
  let users = new Map<string, string>()
  let failNotes: Record<string, string> = {}
  let inFlight = 0
  const fake = { notes: [], arrivals: [], maxInFlight: 0 } as unknown as FakeJotter
  const answer = (query: string, variables: any, token: string | undefined): unknown => {
    const error = (code: string, message: string): unknown => ({ data: null, errors: [{ message, extensions: { code } }] })
    if (query.includes('signUp(')) {
      const email = variables.input.email
      if (users.has(email)) return error('BAD_USER_INPUT', 'email is already registered')
      users.set(email, String(users.size + 1))
      return { data: { signUp: { token: `token-${users.get(email)}`, user: { id: users.get(email) } } } }
    }
    const viewer = /^token-(\d+)$/.exec(token ?? '')?.[1]
    if (viewer === undefined) return error('UNAUTHENTICATED', 'login needed')
    const input = variables.input
    if (failNotes[input.title] !== undefined) return error(failNotes[input.title], 'failed on purpose')
    fake.notes.push({ ...input, viewer })
    return { data: { createNote: { id: String(fake.notes.length), visibility: input.visibility } } }
  }
  const server = createServer((request, response) => {
    let text = ''
    request.on('data', (chunk: Buffer) => { text += chunk.toString() })
    request.on('end', () => {
      const title = JSON.parse(text).variables?.input?.title
      if (typeof title === 'string') fake.arrivals.push(title)
      inFlight++
      fake.maxInFlight = Math.max(fake.maxInFlight, inFlight)
      setTimeout(() => {
        inFlight--
        const { query, variables } = JSON.parse(text)
        const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(query, variables, token)))
      }, 5)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(fake, {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    userIdOf: (email: string) => users.get(email)!,
    reset (options: { registered?: string[], failNotes?: Record<string, string> }) {
      users = new Map((options.registered ?? []).map((email, index) => [email, `r${index}`]))
      failNotes = options.failNotes ?? {}
      fake.notes = []
      fake.arrivals = []
      fake.maxInFlight = 0
    }
  })
}

async function runSeed (args: string[]): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', ...args], { cwd: repoRoot })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, output }
}
