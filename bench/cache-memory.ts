/**
 * `npm run bench:cache-memory [-- --users 2000 --notes-per-user 100 --concurrency 16 --hold 60 --response-ttl-ms 900000]`
 *
 * How much memory does one process need once both caches are full? Starts a seeded Jotter with
 * `npm start`'s node flags and the default cache bounds (bench/bench-server.ts), then asks, as
 * an anonymous viewer, for every note and for every user with a page of their notes, in turn:
 * each answer is a new response-cache key and brings new rows. It goes on until both caches
 * have evicted (they are at their bounds: CACHE_MAX_BYTES and ROW_CACHE_MAX_BYTES, 64 MiB
 * each by default), then for --hold seconds more, cycling, so the evictions' garbage and the
 * major GCs it brings are in the figure. Every 5 s it prints RSS, the V8 heap in use and each
 * cache's bytes and evictions; at the end the peak RSS once full, then a full GC in the server
 * (SIGWINCH → bench/gc-on-signal.ts) and the heap that is live with both caches full.
 *
 * The response cache keeps an answer CACHE_TTL_MS (60 s by default), so it holds at most what
 * one process answers in that time: in a first run ~50 MiB as counted then, short of its
 * bound. The run sets CACHE_TTL_MS to --response-ttl-ms (15 min) so that it fills. Every other
 * setting is the default.
 *
 * Our own: the load tool picks from the few thousand ids it collects, and never fills the
 * caches (docs/deployment.md "How much memory" had only an estimate before this).
 * Exit code: 0 = both caches filled and held, 1 = they did not fill within --max-fill seconds
 * or a request failed, 130 = stopped by SIGINT or SIGTERM (the server is stopped too),
 * 2 = bad usage or setup.
 */
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { startBenchServer } from './bench-server.ts'
import { parsePrometheusSums } from './load/index.ts'
import { exitWith, positiveInteger } from './cli-flags.ts'

const SAMPLE_EVERY_MS = 5000
/** The signal bench/gc-on-signal.ts answers with a full GC. */
const GC_SIGNAL = 'SIGWINCH'
const NOTE = 'query ($id: ID!) { note(id: $id) { id title body visibility author { id name } tags { name } } }'
const USER_NOTES = 'query ($id: ID!) { user(id: $id) { id name notes(first: 20) { id title body tags { name } } } }'
const METRICS = ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'jotter_cache_bytes', 'jotter_cache_evictions_total',
  'jotter_row_cache_bytes', 'jotter_row_cache_evictions_total'] as const

interface Sample {
  second: number
  values: Map<string, number>
}

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '2000' },
      'notes-per-user': { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      hold: { type: 'string', default: '60' },
      'max-fill': { type: 'string', default: '900' },
      'response-ttl-ms': { type: 'string', default: '900000' }
    }
  })
  const users = positiveInteger('--users', values.users!)
  const notesPerUser = positiveInteger('--notes-per-user', values['notes-per-user']!)
  const concurrency = positiveInteger('--concurrency', values.concurrency!)
  const holdSeconds = positiveInteger('--hold', values.hold!)
  const maxFillSeconds = positiveInteger('--max-fill', values['max-fill']!)
  const responseTtlMs = positiveInteger('--response-ttl-ms', values['response-ttl-ms']!)

  const server = await startBenchServer({
    users,
    notesPerUser,
    env: { CACHE_TTL_MS: String(responseTtlMs) },
    nodeArgs: ['--expose-gc'],
    preloads: ['./bench/gc-on-signal.ts']
  })
  const origin = new URL(server.url).origin
  const pool = new Pool(origin, { connections: concurrency })
  try {
    const started = performance.now()
    const seconds = (): number => (performance.now() - started) / 1000
    // Request k: note k, and every 20th a user's page (ids 1.. on a fresh database), cycling.
    const notes = users * notesPerUser
    let next = 0
    let requests = 0
    let failures = 0
    const ask = async (): Promise<void> => {
      const k = next++
      const body = k % 20 === 19
        ? { query: USER_NOTES, variables: { id: String(1 + (Math.floor(k / 20) % users)) } }
        : { query: NOTE, variables: { id: String(1 + (k % notes)) } }
      const response = await pool.request({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const text = await response.body.text()
      requests++
      if (response.statusCode !== 200 || text.includes('"errors"')) failures++
    }

    const samples: Sample[] = []
    const state: { filledAt: number | null, stop: boolean, interrupted: NodeJS.Signals | null } = { filledAt: null, stop: false, interrupted: null }
    // Ctrl-C (or a SIGTERM) ends the run the normal way: the server and its database are stopped.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { state.stop = true; state.interrupted = signal })
    const sampleUntilDone = async (): Promise<void> => {
      while (!state.stop) {
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS))
        const sample = { second: seconds(), values: await scrape(server.metricsUrl) }
        samples.push(sample)
        const justFilled = state.filledAt === null && (sample.values.get('jotter_cache_evictions_total') ?? 0) > 0 && (sample.values.get('jotter_row_cache_evictions_total') ?? 0) > 0
        if (justFilled) state.filledAt = sample.second
        process.stdout.write(`${formatSample(sample, requests, failures)}${justFilled ? '  ← both caches full' : ''}\n`)
        if (state.filledAt !== null ? sample.second >= state.filledAt + holdSeconds : sample.second >= maxFillSeconds) state.stop = true
      }
    }
    const sampling = (async () => {
      // A failed scrape ends the run (the requests too) with its error.
      try {
        await sampleUntilDone()
      } finally {
        state.stop = true
      }
    })()
    await Promise.all([sampling, ...Array.from({ length: concurrency }, async () => {
      while (!state.stop) await ask()
    })])

    const filledAt = state.filledAt
    if (state.interrupted !== null) {
      process.stdout.write(`cache-memory: stopped by ${state.interrupted} after ${requests} requests\n`)
      return 130
    }
    if (filledAt === null) {
      process.stdout.write(`cache-memory: the caches did not both fill within ${maxFillSeconds} s (${requests} requests)\n`)
      return 1
    }
    const full = samples.filter((sample) => sample.second >= filledAt)
    const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0)
    const peak = Math.max(...full.map((sample) => sample.values.get('process_resident_memory_bytes') ?? 0))
    process.kill(server.pid, GC_SIGNAL)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const live = await scrape(server.metricsUrl)
    process.stdout.write(`cache-memory: ${users} users × ${notesPerUser} notes, ${requests} requests (${failures} failed); both caches full after ${filledAt.toFixed(0)} s, held ${holdSeconds} s\n`)
    process.stdout.write(`cache-memory: RSS peak once full ${mib(peak)} MiB; after a full GC ${mib(live.get('process_resident_memory_bytes') ?? 0)} MiB RSS, ${mib(live.get('nodejs_heap_size_used_bytes') ?? 0)} MiB of live heap, the caches counting ${mib(live.get('jotter_cache_bytes') ?? 0)} + ${mib(live.get('jotter_row_cache_bytes') ?? 0)} MiB\n`)
    return failures === 0 ? 0 : 1
  } finally {
    await pool.close()
    await server.stop()
  }
}

async function scrape (metricsUrl: string): Promise<Map<string, number>> {
  const response = await fetch(metricsUrl)
  return parsePrometheusSums(await response.text(), METRICS)
}

function formatSample ({ second, values }: Sample, requests: number, failures: number): string {
  const mib = (name: string): string => `${((values.get(name) ?? 0) / 1024 / 1024).toFixed(0).padStart(4)} MiB`
  return `${second.toFixed(0).padStart(4)} s  ${String(requests).padStart(8)} requests (${failures} failed)  RSS ${mib('process_resident_memory_bytes')}  heap ${mib('nodejs_heap_size_used_bytes')}` +
    `  responses ${mib('jotter_cache_bytes')} (${values.get('jotter_cache_evictions_total') ?? 0} evicted)  rows ${mib('jotter_row_cache_bytes')} (${values.get('jotter_row_cache_evictions_total') ?? 0} evicted)`
}

exitWith('cache-memory', main(process.argv.slice(2)))
