/**
 * CACHE_MAX_BYTES and ROW_CACHE_MAX_BYTES bound what the caches keep on the heap, not only
 * the bytes of the answers and rows in them: the real app answers a few thousand distinct
 * reads (a note with its author and tags, a user's page of notes), and the heap they leave
 * live after a full GC is compared with what the two caches count. With the per-entry costs
 * guessed at first (256 and 200 bytes, tags by their length) the heap kept 1.70× the count
 * here (`npm run bench:cache-memory` saw ~2× in a whole process: 266–299 MiB live for 128 MiB
 * counted); with the measured costs 1.12–1.19× (alone, and beside the other cache tests).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import pg from 'pg'
import { seed } from '../../scripts/seed.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const USERS = 200
const NOTES_PER_USER = 50
const WARM_UP = 1000
const REQUESTS = 8000
const NOTE = 'query ($id: ID!) { note(id: $id) { id title body visibility author { id name } tags { name } } }'
const USER_PAGE = 'query ($id: ID!, $after: ID) { user(id: $id) { id name notes(first: 5, after: $after) { id title body tags { name } } } }'

let t: TestApp
before(async () => {
  // A long response TTL: nothing may expire while the heap is measured.
  t = await startTestApp({ cacheTtlMs: 600_000 })
  const pool = new pg.Pool({ connectionString: t.database.url, max: 2 })
  try {
    await seed(pool, { users: USERS, notesPerUser: NOTES_PER_USER })
  } finally {
    await pool.end()
  }
})
after(() => t.close())

test('the heap the two caches keep is within a third of the bytes they count', async () => {
  // Request k: note k, or every other one a page of a user's notes; each a new answer.
  const ask = async (k: number): Promise<void> => {
    const body = k % 2 === 0
      ? { query: NOTE, variables: { id: String(1 + (k % (USERS * NOTES_PER_USER))) } }
      : { query: USER_PAGE, variables: { id: String(1 + (k % USERS)), after: String(k) } }
    const response = await t.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    assert.equal(response.statusCode, 200, response.body)
  }
  const fill = async (from: number, count: number): Promise<{ heap: number, counted: number }> => {
    for (let k = from; k < from + count; k += 16) await Promise.all(Array.from({ length: 16 }, (_, i) => ask(k + i)))
    return { heap: await liveHeap(), counted: await countedBytes() }
  }
  // The first requests also pay for what is made once (optimized code, pools, documents);
  // what the rest add is what their entries cost.
  const warm = await fill(0, WARM_UP)
  const full = await fill(WARM_UP, REQUESTS)
  const heap = full.heap - warm.heap
  const counted = full.counted - warm.counted
  assert.ok(counted > 4 * 1024 * 1024, `the caches kept what was read: ${counted} bytes counted`)
  const ratio = heap / counted
  assert.ok(ratio > 0.75 && ratio < 1.33, `live heap ${heap} bytes for ${counted} counted: ${ratio.toFixed(2)}×`)
})

/** The heap in use after a full GC, once pending callbacks (inject's) have run. */
async function liveHeap (): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 100))
  gc()
  gc()
  return getHeapStatistics().used_heap_size
}

async function countedBytes (): Promise<number> {
  const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1])
  return value('jotter_cache_bytes') + value('jotter_row_cache_bytes')
}
