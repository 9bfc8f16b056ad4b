/**
 * `npm run bench:compare [-- --duration 20 --warmup 5 --rate 40%|200 --connections 64 --users 200
 *   --notes-per-user 20 --mix read|write|createNote|updateUser|both|mutations|all (or a comma list)
 *   --targets floor,reference,jotter-off,jotter
 *   --database-url URL --out bench/results --no-pin --cpu-prof DIR]`
 *
 * Where Jotter stands, measured in one invocation with the same pinning (servers and PostgreSQL
 * on CPU 0, this process, the load generator, on CPU 1), the same data (seeded once through
 * Jotter's API, then copied for each target), the same generator, mixes and rate:
 *  (a) floor: bench/bare-server.ts, node:http answering the bytes Jotter sent for each operation;
 *  (b) reference: bench/reference-server/, a plain Fastify + Mercurius (graphql-jit) + DataLoader
 *      server over the same schema and tables, with the same auth and visibility rules and no
 *      cache, deadline or metrics;
 *  (c) jotter-off: Jotter with CACHE_ENABLED=false ROW_CACHE_MAX_BYTES=0;
 *  (d) jotter: Jotter as configured by default;
 *  (e) jotter-hashes: the same, the mix's reads sent as automatic-persisted-query hashes (the
 *      document only after PERSISTED_QUERY_NOT_FOUND, as a client does).
 * Each target gets, on the read mix and on the write mix (90 % reads, createNote 5 %,
 * updateUser 5 %; `--mix mutations`: each of the two writes alone): a closed loop of --connections (req/s), then a fixed open-model --rate
 * (p50/p99), each after --warmup seconds of the same. `--rate 40%` is 40 % of what the reference
 * server answered in its closed loop on that mix (the reference then runs first). Figures: success %, CPU per request of the
 * server process and of the PostgreSQL server (/proc), Jotter's SQL statements per request and
 * response-cache hit rate (/metrics), each with its ratio to (a) and to (b). The table is
 * printed; the figures go to <out>/<time>-compare.json (and .html). The default run takes about
 * 9 minutes on a 2-CPU machine, most of it the 20 passes of 25 s.
 *
 * With --cpu-prof DIR, every database target's server runs under `node --cpu-prof` and writes its
 * profile into DIR/<target>-<mix>/ when it stops; the functions with the most self time are
 * printed as each target ends (the profiles open in Chrome DevTools or speedscope).
 *
 * The load generator (bench/load) and this comparison are our own code: the open model needs a
 * generator that sends on schedule whatever the server does (run-open-model-load.ts says why none
 * from npm or Debian would do), and a comparison that seeds through the API, copies databases
 * and reads /proc and /metrics around each pass is not something a load tool does.
 *
 * Exit code: 0 when the run completed (the table says how each target fared), 2 on bad usage or a
 * failed setup (seeding, a server that would not start), 130 when stopped: Ctrl-C or SIGTERM ends
 * the run after the pass under way and removes what it started; a second one exits at once.
 */
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { repoRoot } from './bench-server.ts'
import { exitWith, positive, positiveInteger, UsageError } from './cli-flags.ts'
import { writeResultFiles } from './load/result-files.ts'
import { MIX_GROUPS, MIX_NAMES, type MixName } from './compare/mixes.ts'
import { MeasurementStopped } from './compare/passes.ts'
import { formatReport, TARGET_NAMES, type TargetName } from './compare/report.ts'
import { runComparison, type RateSetting } from './compare/run-comparison.ts'

export const compareFlagDefaults = Object.freeze({
  duration: '20',
  warmup: '5',
  // 40 % of what the reference server answers in its closed loop: a load every target carries
  // without a queue, so p50/p99 compare the work per request; ‡ in the table marks a target
  // whose closed loop answered less than the rate.
  rate: '40%',
  connections: '64',
  users: '200',
  'notes-per-user': '20',
  mix: 'both',
  targets: TARGET_NAMES.join(','),
  out: join(repoRoot, 'bench', 'results')
})

export function parseCompareFlags (argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: compareFlagDefaults.duration },
      warmup: { type: 'string', default: compareFlagDefaults.warmup },
      rate: { type: 'string', default: compareFlagDefaults.rate },
      connections: { type: 'string', default: compareFlagDefaults.connections },
      users: { type: 'string', default: compareFlagDefaults.users },
      'notes-per-user': { type: 'string', default: compareFlagDefaults['notes-per-user'] },
      mix: { type: 'string', default: compareFlagDefaults.mix },
      targets: { type: 'string', default: compareFlagDefaults.targets },
      'database-url': { type: 'string' },
      out: { type: 'string', default: compareFlagDefaults.out },
      'cpu-prof': { type: 'string' },
      pin: { type: 'boolean', default: true }
    },
    allowNegative: true
  })
  const rate = parseRate(values.rate!)
  const targets = parseTargets(values.targets!)
  if ('shareOfReference' in rate && !targets.includes('reference')) {
    throw new UsageError(`--rate ${values.rate} is a share of the reference's closed loop: --targets must include reference, or give --rate in requests per second`)
  }
  return {
    durationSeconds: positive('--duration', values.duration!),
    warmupSeconds: positive('--warmup', values.warmup!, true),
    rate,
    connections: positiveInteger('--connections', values.connections!),
    users: positiveInteger('--users', values.users!),
    notesPerUser: positiveInteger('--notes-per-user', values['notes-per-user']!),
    mixes: parseMixes(values.mix!),
    targets,
    databaseUrl: values['database-url'] || undefined,
    out: values.out!,
    cpuProfileDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    pin: values.pin !== false
  }
}

/** `200` (requests per second) or `40%` (of the reference server's closed loop on the same mix). */
export function parseRate (text: string): RateSetting {
  if (text.endsWith('%')) {
    const percent = positive('--rate', text.slice(0, -1))
    if (percent > 100) throw new UsageError(`--rate as a share of the reference's closed loop must be at most 100%: ${text}`)
    return { shareOfReference: percent / 100 }
  }
  return { perSecond: positive('--rate', text) }
}

async function main (argv: string[]): Promise<number> {
  const { out, ...options } = parseCompareFlags(argv)
  let stopping = false
  const stop = (): void => {
    if (stopping) process.exit(130)
    stopping = true
    process.stderr.write('bench:compare: stopping after the pass under way (again to exit at once)\n')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  try {
    const report = await runComparison({ ...options, stopRequested: () => stopping })
    const table = formatReport(report)
    process.stdout.write(`\n${table}\n`)
    const { jsonPath } = await writeResultFiles(out, 'compare', report, `<!doctype html><meta charset="utf-8"><title>bench:compare</title><pre>${escapeHtml(table)}</pre>\n`)
    process.stdout.write(`\nresults: ${jsonPath}\n`)
    return 0
  } catch (error) {
    if (error instanceof MeasurementStopped) return 130
    throw error
  }
}

// Private:

function parseMixes (raw: string): MixName[] {
  if (MIX_GROUPS[raw] !== undefined) return [...MIX_GROUPS[raw]]
  const names = raw.split(',').map((name) => name.trim())
  if (names.length > 0 && names.every((name) => (MIX_NAMES as readonly string[]).includes(name))) return [...new Set(names as MixName[])]
  throw new UsageError(`--mix must be ${MIX_NAMES.join(', ')} (or a comma list of them), ${Object.keys(MIX_GROUPS).join(', ')}: ${JSON.stringify(raw)}`)
}

function parseTargets (raw: string): TargetName[] {
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '')
  const unknown = names.filter((name) => !(TARGET_NAMES as readonly string[]).includes(name))
  if (names.length === 0 || unknown.length > 0) throw new UsageError(`--targets must list some of ${TARGET_NAMES.join(', ')}: ${JSON.stringify(raw)}`)
  // In the table's order, each once.
  return TARGET_NAMES.filter((name) => names.includes(name))
}

function escapeHtml (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) exitWith('bench:compare', main(process.argv.slice(2)))
