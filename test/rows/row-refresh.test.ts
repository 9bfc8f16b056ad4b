/**
 * The row cache's refresh ahead of expiry: a row still being read is read again off the
 * request path, one statement per kind, before its lifetime ends; one nobody reads expires.
 * The refresh obeys the same rules as any read: race tracker, bus, byte bound.
 */
import assert from 'node:assert/strict'
import { setImmediate as turn } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { createRaceTracker } from '../../src/changes/race-tracker.ts'
import { createRowCache, type FetchedRow, type RowSource } from '../../src/rows/row-cache.ts'
import { localBus } from '../helpers/local-bus.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

const TTL = 1000

/** A source whose rows are `name:id@version`; each read is recorded and may be held back. */
function fakeSource (name: string) {
  const reads: string[][] = []
  let version = 1
  let gone = new Set<string>()
  let hold: Promise<void> | undefined
  let failure: Error | undefined
  const concurrency = { now: 0, most: 0 }
  const source: RowSource<string> = {
    name,
    keyOf: (id) => `${name}:${id}`,
    async read (_scope, ids) {
      reads.push([...ids])
      concurrency.most = Math.max(concurrency.most, ++concurrency.now)
      const answer = new Map<string, FetchedRow<string>>()
      for (const id of ids) if (!gone.has(id)) answer.set(id, { value: `${name}:${id}@${version}`, tags: [`${name}:${id}`] })
      await hold
      await turn()
      concurrency.now--
      if (failure !== undefined) throw failure
      return answer
    }
  }
  return {
    source,
    reads,
    concurrency,
    nextVersion: () => { version++ },
    remove: (id: string) => { gone = new Set([...gone, id]) },
    holdUntil: (promise: Promise<void>) => { hold = promise },
    failWith: (error: Error) => { failure = error }
  }
}

function setUp ({ refreshMaxBatch }: { refreshMaxBatch?: number } = {}) {
  // Not 0: lru-cache takes a start time of 0 for "no TTL".
  const origin = 1_000_000
  let clock = origin
  const bus = localBus()
  const tracker = createRaceTracker({ clockSkewMs: 0, retentionMs: 60_000 })
  bus.subscribe(tracker)
  const rows = createRowCache({ maxBytes: 1_000_000, ttlMs: TTL, bus, tracker, refreshDelayMs: 1, refreshMaxBatch, now: () => clock, random: () => 0 })
  const notes = fakeSource('Note')
  const users = fakeSource('User')
  const keep = (fake: ReturnType<typeof fakeSource>, id: string) =>
    rows.set(fake.source.keyOf(id), `${fake.source.name}:${id}@1`, [fake.source.keyOf(id)], rows.ticket(), { source: fake.source, id })
  // lru-cache keeps its clock's reading for a millisecond (ttlResolution): let that pass.
  const at = async (ms: number): Promise<void> => {
    clock = origin + ms
    await new Promise((resolve) => setTimeout(resolve, 3))
  }
  return { bus, rows, notes, users, keep, at }
}

/** Past the refresh delay (1 ms) and the fake read's own turns. */
async function refreshesDone (): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 10))
  for (let i = 0; i < 5; i++) await turn()
}

describe('row cache refresh ahead of expiry (unit)', () => {
  test('rows read after half their lifetime are read again, one read per kind, and outlive their first lifetime', async () => {
    const { rows, notes, users, keep, at } = setUp()
    for (const id of ['1', '2', '3']) keep(notes, id)
    for (const id of ['7', '8']) keep(users, id)
    keep(notes, 'unread')
    notes.nextVersion()
    users.nextVersion()
    // Every lifetime is the TTL here (random 0) and a row is due after half of it.
    await at(TTL * 0.6)
    for (const key of ['Note:1', 'Note:2', 'Note:3', 'User:7', 'User:8']) assert.equal(rows.get(key), `${key}@1`)
    await refreshesDone()
    assert.deepEqual(notes.reads, [['1', '2', '3']])
    assert.deepEqual(users.reads, [['7', '8']])
    // Past every first lifetime: the refreshed rows are there (new lifetimes began at 60 %),
    // the one nobody read is gone.
    await at(TTL * 1.05)
    for (const key of ['Note:1', 'Note:2', 'Note:3', 'User:7', 'User:8']) assert.equal(rows.get(key), `${key}@2`)
    assert.equal(rows.get('Note:unread'), undefined)
  })

  test('before half its lifetime no read queues a refresh; a queued row is read once', async () => {
    const { rows, notes, keep, at } = setUp()
    keep(notes, '1')
    await at(TTL * 0.49)
    rows.get('Note:1')
    await refreshesDone()
    assert.deepEqual(notes.reads, [], 'not due yet')
    await at(TTL * 0.6)
    for (let i = 0; i < 3; i++) rows.get('Note:1')
    await refreshesDone()
    assert.deepEqual(notes.reads, [['1']])
  })

  test('a large refresh is read in batches of refreshMaxBatch, one statement after another', async () => {
    const { rows, notes, keep, at } = setUp({ refreshMaxBatch: 2 })
    for (const id of ['1', '2', '3', '4', '5']) keep(notes, id)
    await at(TTL * 0.6)
    for (const id of ['1', '2', '3', '4', '5']) rows.get(`Note:${id}`)
    await refreshesDone()
    assert.deepEqual(notes.reads, [['1', '2'], ['3', '4'], ['5']])
    assert.equal(notes.concurrency.most, 1)
  })

  test('a refresh that overlapped an invalidation of its row stores nothing', async () => {
    const { bus, rows, notes, keep, at } = setUp()
    keep(notes, '1')
    keep(notes, '2')
    let release!: () => void
    notes.holdUntil(new Promise((resolve) => { release = resolve }))
    notes.nextVersion()
    await at(TTL * 0.6)
    rows.get('Note:1')
    rows.get('Note:2')
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(notes.reads.length, 1, 'the refresh is reading')
    bus.announce(['Note:1'])
    release()
    await refreshesDone()
    assert.equal(rows.get('Note:1'), undefined, 'read before the invalidation: not stored')
    assert.equal(rows.get('Note:2'), 'Note:2@2')
  })

  test('a row the refresh finds gone is dropped; a failed refresh leaves rows to their lifetime', async () => {
    const { rows, notes, users, keep, at } = setUp()
    keep(notes, '1')
    keep(notes, '2')
    keep(users, '7')
    notes.remove('2')
    users.failWith(new Error('connection lost'))
    await at(TTL * 0.6)
    rows.get('Note:1')
    rows.get('Note:2')
    rows.get('User:7')
    await refreshesDone()
    assert.equal(rows.get('Note:1'), 'Note:1@1')
    assert.equal(rows.get('Note:2'), undefined)
    assert.equal(rows.get('User:7'), 'User:7@1', 'kept until its lifetime ends')
    await at(TTL * 1.01)
    assert.equal(rows.get('User:7'), undefined)
  })

  test('rows kept without an origin, or while the bus is down, or after close are never refreshed', async () => {
    const { bus, rows, notes, keep, at } = setUp()
    rows.set('Note:plain', 'x', ['Note:plain'], rows.ticket())
    keep(notes, '1')
    keep(notes, '2')
    await at(TTL * 0.6)
    rows.get('Note:plain')
    rows.get('Note:1')
    bus.listening = false
    await refreshesDone()
    assert.deepEqual(notes.reads, [], 'not listening: nothing read could be stored')
    bus.listening = true
    rows.close()
    rows.get('Note:2')
    await refreshesDone()
    assert.deepEqual(notes.reads, [])
  })
})

describe('row cache refresh through the API', () => {
  // Long enough that a pause of the machine between two reads does not outlast a lifetime's second half.
  const ttlMs = 8000
  let t: TestApp
  before(async () => { t = await startTestApp({ exposeSqlCount: true, rowCacheTtlMs: ttlMs }) })
  after(() => t.close())

  test('a row still in use costs no request SQL past its first lifetime; an unused one is read again', async () => {
    const bob = await t.signUp('Bob')
    const created = await t.gql('mutation { a: createNote(input: { title: "read often", visibility: PUBLIC }) { id } b: createNote(input: { title: "read once", visibility: PUBLIC }) { id } }', { token: bob.token })
    const [a, b] = [created.body.data.a.id as string, created.body.data.b.id as string]
    const read = async (id: string): Promise<number> => {
      const response = await t.gql('query ($id: ID!) { note(id: $id) { title author { name } } }', { token: bob.token, variables: { id }, headers: { 'cache-control': 'no-cache' } })
      assert.equal(response.body.errors, undefined)
      return response.body.extensions!.sqlStatements as number
    }
    const started = performance.now()
    const waitUntil = async (ms: number) => { await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + ms - performance.now()))) }
    assert.ok(await read(a) > 0)
    assert.ok(await read(b) > 0)
    // `a` (and the viewer's own users row) read every tenth of the TTL: each lifetime (half the
    // TTL at least) has a read in its second half early enough for the refresh (a sixteenth of
    // the TTL later) to land before it ends. `b` is read only at the start.
    for (let step = 1; step <= 13; step++) {
      await waitUntil(ttlMs * step / 10)
      assert.equal(await read(a), 0, `a read at ${step / 10} of the TTL ran SQL`)
    }
    assert.ok(await read(b) > 0, 'nobody read it: it expired')
    const metrics = await t.app.inject({ url: '/metrics' })
    const refreshed = Number(/^jotter_row_cache_refreshed_total (\d+)/m.exec(metrics.body)?.[1])
    assert.ok(refreshed >= 2, `rows refreshed: ${refreshed}`)
  })
})
