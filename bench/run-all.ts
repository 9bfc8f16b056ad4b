/**
 * `npm run bench [-- --step-duration 10 --skip-loaders --skip-cache --skip-write-mix --slo-p99 200]`
 *
 * Every benchmark in one run, summarised as one Markdown table:
 *  - `npm run bench:loaders` and `npm run bench:cache` (when package.json has them), run as they
 *    are; their own tables are printed and their ratios are their own (naive/loaders, ...);
 *  - the throughput of the default read mix (highest rate within the SLO, bench/scaling.ts's search)
 *    against Jotter with CACHE_ENABLED=false, against Jotter as configured by default, and
 *    against bench/bare-server.ts answering the very bytes Jotter answered — each Jotter
 *    figure as a ratio of the bare server's, measured in this same run with the same load;
 *  - the throughput of the write mix (`--mix write`: the default reads and 15 % checked writes)
 *    against Jotter as configured by default, measured last because it changes the data.
 *
 *  - the V8 heap bytes Jotter allocates per request on the response-cache hit path and on the
 *    miss path (bench/allocation.ts), and per request of the mix at the highest rate within the
 *    SLO, with the server's GC pause p99 there.
 *
 * Pinned by default where taskset exists and there are two CPUs: every server under test (and
 * an embedded PostgreSQL) on CPU 0, this process, the load generator, on CPU 1 (`--no-pin`
 * shares them; the table's heading says which). Unpinned, the generator shares the cores with
 * the server; against the bare server it may be the generator that runs out first, which makes
 * the ratios generous to Jotter. The table says when the generator fell behind. Exit code: 0,
 * or 1 when a sub-benchmark failed, 2 on bad usage or a failed setup.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { measureAllocation, seedMixPaths, type AllocationResult } from './allocation.ts'
import { sampleResponseBodies, startBareServer } from './bare-server.ts'
import { createBenchDatabase, repoRoot, startJotterProcess } from './bench-server.ts'
import { decidePinning, PINNED_CPUS, pinProcess } from './load/cpu-pinning.ts'
import { collectFixtures, createRequestMix, defaultMixEntries, writeMixEntries } from './load/index.ts'
import type { Fixtures, RequestMix } from './load/index.ts'
import { measureThroughput, type ThroughputOptions, type ThroughputResult } from './scaling.ts'
import { exitWith, positive } from './cli-flags.ts'

interface Row { target: string, result: ThroughputResult }

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'step-duration': { type: 'string', default: '10' },
      'start-rate': { type: 'string', default: '200' },
      'max-rate': { type: 'string', default: '50000' },
      'slo-p99': { type: 'string', default: '200' },
      users: { type: 'string', default: '200' },
      'notes-per-user': { type: 'string', default: '20' },
      'database-url': { type: 'string', default: process.env.DATABASE_URL },
      'skip-loaders': { type: 'boolean', default: false },
      'skip-write-mix': { type: 'boolean', default: false },
      'skip-cache': { type: 'boolean', default: false },
      pin: { type: 'boolean', default: true }
    },
    allowNegative: true
  })
  const measure: ThroughputOptions = {
    startRate: positive('--start-rate', values['start-rate']!),
    maxRate: positive('--max-rate', values['max-rate']!),
    stepSeconds: positive('--step-duration', values['step-duration']!),
    thresholds: { p99Ms: positive('--slo-p99', values['slo-p99']!), successRate: 0.99 }
  }
  const users = positive('--users', values.users!)
  const scripts = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  const subBenchmarks: Array<{ script: string, code: number | null }> = []
  for (const [script, skip] of [['bench:loaders', values['skip-loaders']], ['bench:cache', values['skip-cache']]] as const) {
    if (skip) continue
    if (scripts[script] === undefined) {
      process.stdout.write(`\n(${script}: no such npm script yet, skipped)\n`)
      subBenchmarks.push({ script, code: null })
      continue
    }
    process.stdout.write(`\n### npm run ${script}\n\n`)
    subBenchmarks.push({ script, code: await runNpmScript(script) })
  }

  // After the sub-benchmarks, which run as they are: they are their own children and would inherit it.
  const pinning = decidePinning(values.pin !== false)
  process.stderr.write(`bench: ${pinning.note}\n`)
  const serverCpus = pinning.pin ? PINNED_CPUS.server : undefined
  if (pinning.pin) await pinProcess(process.pid, PINNED_CPUS.generator)
  const database = await createBenchDatabase({ users, notesPerUser: positive('--notes-per-user', values['notes-per-user']!), databaseUrl: values['database-url'] || undefined, postgresCpus: serverCpus })
  const workDir = await mkdtemp(join(tmpdir(), 'jotter-bench-all-'))
  const rows: Row[] = []
  const allocations: Array<{ target: string, result: AllocationResult }> = []
  try {
    let fixtures: Fixtures | undefined
    let mix: RequestMix | undefined
    let bareBodiesFile: string | undefined
    for (const [target, env] of [['Jotter, CACHE_ENABLED=false', { CACHE_ENABLED: 'false' }], ['Jotter, default config', {}]] as const) {
      const server = await startJotterProcess({ databaseUrl: database.url, env, cpus: serverCpus })
      try {
        fixtures ??= await collectFixtures({ url: server.url, users })
        mix ??= createRequestMix({ entries: defaultMixEntries, fixtures })
        // Before the load: the miss path's viewer × note pairs have not been asked yet.
        const [hit, miss] = seedMixPaths(fixtures)
        for (const path of env.CACHE_ENABLED === 'false' ? [miss] : [hit, miss]) {
          process.stderr.write(`bench: ${target}: allocation per request, ${path.name}\n`)
          allocations.push({ target, result: await measureAllocation(path, { url: server.url, metricsUrl: server.metricsUrl }) })
        }
        if (bareBodiesFile === undefined) {
          bareBodiesFile = join(workDir, 'bodies.json')
          await writeFile(bareBodiesFile, JSON.stringify(await sampleResponseBodies(server.url, mix)))
        }
        process.stderr.write(`bench: ${target}\n`)
        rows.push({ target, result: await measureThroughput(server.url, mix, measure) })
      } finally {
        await server.stop()
      }
    }
    const bare = await startBareServer(bareBodiesFile!)
    try {
      if (serverCpus !== undefined) await pinProcess(bare.pid, serverCpus)
      process.stderr.write('bench: bare node:http server\n')
      rows.push({ target: 'bare node:http, same bytes', result: await measureThroughput(bare.url, mix!, { ...measure, metricsUrl: null }) })
    } finally {
      await bare.stop()
    }
    if (!values['skip-write-mix']) {
      const server = await startJotterProcess({ databaseUrl: database.url, cpus: serverCpus })
      try {
        // Updates act on the viewers' own notes: each login lists some of them.
        const writeMix = createRequestMix({ entries: writeMixEntries, fixtures: await collectFixtures({ url: server.url, users, ownNotesPerUser: 20 }) })
        process.stderr.write('bench: Jotter, default config, write mix\n')
        rows.push({ target: WRITE_MIX_TARGET, result: await measureThroughput(server.url, writeMix, measure) })
      } finally {
        await server.stop()
      }
    }
  } finally {
    await database.stop()
    await rm(workDir, { recursive: true, force: true })
  }

  process.stdout.write(`\n${formatSummary(rows, allocations, subBenchmarks, measure, pinning.note)}\n`)
  return subBenchmarks.some((sub) => sub.code !== null && sub.code !== 0) ? 1 : 0
}

function runNpmScript (script: string): Promise<number> {
  const child = spawn('npm', ['run', '--silent', script], { cwd: repoRoot, stdio: 'inherit' })
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
}

const WRITE_MIX_TARGET = 'Jotter, default config, write mix (15 % writes)'

function formatSummary (rows: Row[], allocations: Array<{ target: string, result: AllocationResult }>, subBenchmarks: Array<{ script: string, code: number | null }>, measure: ThroughputOptions, pinning: string): string {
  const bare = rows.find((row) => row.target.startsWith('bare'))!.result.throughputRps
  const ratio = (target: string, rps: number): string => bare === 0 || target === WRITE_MIX_TARGET ? 'n/a' : `${(rps / bare * 100).toFixed(1)} %`
  const kb = (bytes: number | null): string => bytes === null ? 'n/a' : (bytes / 1024).toFixed(1)
  return [
    `## npm run bench — throughput of the seed mix and of the write mix within the SLO (p99 < ${measure.thresholds.p99Ms} ms, success ≥ 99 %), one run`,
    '',
    `CPU: ${pinning}.`,
    '',
    '| target | max rps within SLO | p99 ms at that rate | server CPU % | KB allocated per request | GC pause p99 ms | generator kept up | vs bare node:http |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
    ...rows.map(({ target, result }) => `| ${target} | ${result.throughputRps} | ${result.p99Ms} | ${result.serverCpuPercent ?? 'n/a'} | ${kb(result.allocatedBytesPerRequest)} | ${result.gcPauseP99Ms ?? 'n/a'} | ${result.generatorKeptUp ? 'yes' : 'NO'} | ${ratio(target, result.throughputRps)} |`),
    '',
    'Unpinned, the load generator runs on the same cores: against the bare server it can be the limit, which flatters the ratios.',
    'The write mix has no bare-server ratio (the bare server replays reads); 0 rps means even the start rate failed the SLO.',
    'Allocation and GC pauses are the server\'s (jotter_heap_allocated_bytes_total, nodejs_gc_duration_seconds) over that stage; the bare server has neither.',
    '',
    '### V8 heap bytes allocated per request, by path (closed loop, 8 connections, counted by the server)',
    '',
    '| target | path | requests | KB per request | GC pauses meanwhile | errors |',
    '|---|---|---:|---:|---:|---:|',
    ...allocations.map(({ target, result }) => `| ${target} | ${result.path} | ${result.requests} | ${kb(result.bytesPerRequest)} | ${result.gcPauses ?? 'n/a'} | ${result.errors} |`),
    '',
    '| sub-benchmark | result |',
    '|---|---|',
    ...subBenchmarks.map((sub) => `| npm run ${sub.script} | ${sub.code === null ? 'not present (skipped)' : sub.code === 0 ? 'ran (table above)' : `FAILED (exit ${sub.code})`} |`)
  ].join('\n')
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  exitWith('bench', main(process.argv.slice(2)))
}
