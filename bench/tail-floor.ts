/**
 * `npm run bench:tail-floor [-- --rate 1000 --duration 60 --warmup 30 --users 200 --no-pin]`
 *
 * How much of Jotter's tail latency is this machine's. The same open-model read mix, at the same
 * rate, from the same generator with the same pinning (server and PostgreSQL on CPU 0, the
 * generator on CPU 1), first against Jotter, then against bench/bare-server.ts answering the
 * bytes Jotter answered for each operation and doing nothing else. Before either, a stall probe
 * (bench/load/cpu-stalls.ts) on each CPU, both at once: how often the machine took the CPU away
 * from a process that wanted it, and for how long.
 *
 * Why: a p99 of 3 ms at 1000 req/s means 10 requests in 1000 may wait longer than 3 ms. On a VM
 * that takes the core away for 3-8 ms a few times a second, a server that does no work at all
 * shows that much; the bare server's row is that floor, measured, beside Jotter's. Exit code:
 * 0, 2 on bad usage or a failed setup.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sampleResponseBodies, startBareServer } from './bare-server.ts'
import { createBenchDatabase, startJotterProcess } from './bench-server.ts'
import { exitWith, positive, positiveInteger } from './cli-flags.ts'
import { describeCpuStalls, probeCpuStalls, type CpuStalls } from './load/cpu-stalls.ts'
import { decidePinning, PINNED_CPUS, pinProcess } from './load/cpu-pinning.ts'
import { collectFixtures, createRequestMix, defaultMixEntries, runOpenModelLoad } from './load/index.ts'
import type { LoadResult, RequestMix } from './load/index.ts'

const STALL_PROBE_SECONDS = 10

interface Row { target: string, result: LoadResult }

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '30' },
      users: { type: 'string', default: '200' },
      pin: { type: 'boolean', default: true }
    },
    allowNegative: true
  })
  const rate = positive('--rate', values.rate!)
  const durationSeconds = positive('--duration', values.duration!)
  const warmupSeconds = positive('--warmup', values.warmup!, true)
  const users = positiveInteger('--users', values.users!)
  const pinning = decidePinning(values.pin !== false)
  process.stderr.write(`tail-floor: ${pinning.note}\n`)
  const serverCpus = pinning.pin ? PINNED_CPUS.server : undefined
  if (pinning.pin) await pinProcess(process.pid, PINNED_CPUS.generator)

  process.stderr.write(`tail-floor: stall probe, ${STALL_PROBE_SECONDS} s on each CPU at once\n`)
  const stalls = await Promise.all(pinning.pin
    ? [probeCpuStalls(PINNED_CPUS.server, STALL_PROBE_SECONDS), probeCpuStalls(PINNED_CPUS.generator, STALL_PROBE_SECONDS)]
    : [probeCpuStalls(null, STALL_PROBE_SECONDS)])

  const database = await createBenchDatabase({ users, postgresCpus: serverCpus })
  const workDir = await mkdtemp(join(tmpdir(), 'jotter-tail-floor-'))
  const rows: Row[] = []
  const load = (url: string, mix: RequestMix, metricsUrl: string | null): Promise<LoadResult> =>
    runOpenModelLoad({ url, mix, rate, durationSeconds, warmupSeconds, metricsUrl })
  try {
    let mix: RequestMix
    const bodiesFile = join(workDir, 'bodies.json')
    const server = await startJotterProcess({ databaseUrl: database.url, cpus: serverCpus })
    try {
      mix = createRequestMix({ entries: defaultMixEntries, fixtures: await collectFixtures({ url: server.url, users }) })
      await writeFile(bodiesFile, JSON.stringify(await sampleResponseBodies(server.url, mix)))
      process.stderr.write(`tail-floor: Jotter, ${rate} req/s for ${durationSeconds} s after ${warmupSeconds} s\n`)
      rows.push({ target: 'Jotter, default config', result: await load(server.url, mix, server.metricsUrl) })
    } finally {
      await server.stop()
    }
    const bare = await startBareServer(bodiesFile)
    try {
      if (serverCpus !== undefined) await pinProcess(bare.pid, serverCpus)
      process.stderr.write('tail-floor: bare node:http server, the same load\n')
      rows.push({ target: 'bare node:http, same bytes', result: await load(bare.url, mix, null) })
    } finally {
      await bare.stop()
    }
  } finally {
    await database.stop()
    await rm(workDir, { recursive: true, force: true })
  }
  process.stdout.write(`\n${formatTailFloor(rows, stalls, { rate, durationSeconds, warmupSeconds, pinning: pinning.note })}\n`)
  return 0
}

export function formatTailFloor (rows: readonly Row[], stalls: readonly CpuStalls[], run: { rate: number, durationSeconds: number, warmupSeconds: number, pinning: string }): string {
  const ms = (value: number): string => value.toFixed(2)
  return [
    `Read mix at ${run.rate} req/s for ${run.durationSeconds} s after ${run.warmupSeconds} s of warm-up; ${run.pinning}.`,
    '',
    '| server | p50 ms | p99 ms | p99.9 ms | max ms | success | generator send lag p99 / max ms | server GC pause p99 ms |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(({ target, result }) => `| ${target} | ${ms(result.latencyMs.p50)} | ${ms(result.latencyMs.p99)} | ${ms(result.latencyMs.p999)} | ` +
      `${ms(result.latencyMs.max)} | ${(result.successRate * 100).toFixed(2)} % | ${ms(result.generator.sendLagP99Ms)} / ${ms(result.generator.sendLagMaxMs)} | ` +
      `${result.server.gcPauses == null ? 'n/a' : ms(result.server.gcPauses.p99Ms)} |`),
    '',
    `CPU stalls before the loads, nothing else running (a pinned busy loop per CPU, ${STALL_PROBE_SECONDS} s, all at once):`,
    ...stalls.map((stall) => `  ${describeCpuStalls(stall)}`)
  ].join('\n')
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) exitWith('tail-floor', main(process.argv.slice(2)))
