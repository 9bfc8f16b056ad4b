/**
 * Bytes a Jotter process allocates per request on one path (a response-cache hit, a miss),
 * measured from outside the process: its jotter_heap_allocated_bytes_total counter
 * (src/observability/heap-allocation-metrics.ts) read before and after a fixed number of
 * requests sent by a closed loop, less what the scrapes themselves allocate.
 *
 * Why this method: `process.memoryUsage()` or `v8.getHeapStatistics()` deltas lose whatever
 * the collections in between freed (thousands of requests mean dozens of scavenges), and
 * Node 20 has no allocation counter of its own; the server's counter is rebuilt from every
 * collection's before/after sizes (v8.GCProfiler), so it loses nothing. Measuring in another
 * process keeps the load generator's own garbage out of the figure. Off-heap bytes (Buffer
 * contents, such as a stored response body) are not counted: they are not the scavenger's work.
 */
import { Pool } from 'undici'
import { parsePrometheusSums } from './load/server-metrics.ts'
import { gcPausesBetween, parseGcHistogram } from './load/gc-pauses.ts'
import type { Fixtures } from './load/request-mix.ts'
import { defaultMixEntries } from './load/request-mix.ts'

export interface AllocationRequest {
  body: string
  headers: Readonly<Record<string, string>>
}

export interface AllocationPath {
  name: string
  /** The k-th request of the path (warm-up first, then the measured ones). */
  request (k: number): AllocationRequest
}

export interface AllocationResult {
  path: string
  requests: number
  /** Non-200 answers or answers with GraphQL errors. */
  errors: number
  bytesPerRequest: number | null
  /** Young- and old-generation pauses while the measured requests ran. */
  gcPauses: number | null
  /** What one /metrics scrape allocates, subtracted. */
  scrapeBytes: number | null
}

export interface AllocationOptions {
  url: string
  metricsUrl: string
  count?: number
  warmup?: number
  concurrency?: number
}

export const allocationDefaults = Object.freeze({ count: 4000, warmup: 400, concurrency: 8 })

export async function measureAllocation (path: AllocationPath, options: AllocationOptions): Promise<AllocationResult> {
  const count = options.count ?? allocationDefaults.count
  const warmup = options.warmup ?? allocationDefaults.warmup
  const concurrency = options.concurrency ?? allocationDefaults.concurrency
  const target = new URL(options.url)
  const pool = new Pool(target.origin, { connections: concurrency })
  try {
    // Warm-up: JIT, connections, the rows a miss reads from the row cache.
    await closedLoop(pool, target.pathname, path, 0, warmup, concurrency)
    const first = await readCounters(options.metricsUrl)
    const second = await readCounters(options.metricsUrl)
    const errors = await closedLoop(pool, target.pathname, path, warmup, warmup + count, concurrency)
    const last = await readCounters(options.metricsUrl)
    const scrapeBytes = first.allocated === null || second.allocated === null ? null : second.allocated - first.allocated
    // Between `second` and `last`: the rest of one scrape and the part of another before it read the counter, i.e. one scrape.
    const bytes = second.allocated === null || last.allocated === null ? null : last.allocated - second.allocated - (scrapeBytes ?? 0)
    const gc = gcPausesBetween(second.gc, last.gc, 1)
    return { path: path.name, requests: count, errors, bytesPerRequest: bytes === null ? null : Math.max(0, Math.round(bytes / count)), gcPauses: gc?.pauses ?? null, scrapeBytes }
  } finally {
    await pool.close()
  }
}

/**
 * The two paths of the seed mix: a hit (one viewer asking userList again and again) and a
 * miss (noteDetail, every request a viewer × note pair not asked before, over 50 notes whose
 * rows the warm-up has put in the row cache: the mix's usual miss, which runs no SQL).
 */
export function seedMixPaths (fixtures: Fixtures): AllocationPath[] {
  const headers = fixtures.users.map((user) => Object.freeze({ 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${user.token}` }))
  const [userList, noteDetail] = defaultMixEntries
  const hitBody = JSON.stringify({ query: userList.query, operationName: userList.name })
  const notes = fixtures.noteIds.slice(0, 50)
  if (notes.length === 0 || headers.length === 0) throw new Error('allocation paths need at least one user and one note')
  return [
    { name: 'cache hit (userList, one viewer)', request: () => ({ body: hitBody, headers: headers[0] }) },
    {
      name: 'cache miss (noteDetail, new viewer × note)',
      request: (k) => ({
        body: JSON.stringify({ query: noteDetail.query, operationName: noteDetail.name, variables: { id: notes[k % notes.length] } }),
        headers: headers[Math.floor(k / notes.length) % headers.length]
      })
    }
  ]
}

// Private:

async function closedLoop (pool: Pool, path: string, allocationPath: AllocationPath, from: number, to: number, concurrency: number): Promise<number> {
  let next = from
  let errors = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < to) {
      const { body, headers } = allocationPath.request(next++)
      const response = await pool.request({ path, method: 'POST', headers, body })
      const text = await response.body.text()
      if (response.statusCode !== 200 || text.includes('"errors"')) errors++
    }
  }))
  return errors
}

async function readCounters (metricsUrl: string): Promise<{ allocated: number | null, gc: ReturnType<typeof parseGcHistogram> }> {
  const text = await (await fetch(metricsUrl)).text()
  return { allocated: parsePrometheusSums(text, ['jotter_heap_allocated_bytes_total']).get('jotter_heap_allocated_bytes_total') ?? null, gc: parseGcHistogram(text) }
}
