/**
 * `npm run soak -- --duration 3600 [--rate 1000] [--sample-every 10] [--warmup S] [--max-growth 5]`
 *
 * Is memory stable under sustained load? Starts a seeded Jotter (bench/bench-server.ts; or
 * targets --url), runs the open-model load at a fixed rate for the whole duration, and every
 * --sample-every seconds forces a full GC in the server (SIGWINCH → bench/gc-on-signal.ts) and
 * reads RSS and heap used from its /metrics. Samples inside the warm-up (caches filling, JIT,
 * pools growing) are shown but not judged. Growth = the median of the last samples against
 * the median of the first ones after warm-up; the least-squares slope is reported beside it
 * as %/hour. The target: < 5 % over 30 minutes (< 10 % over an hour).
 *
 * Against --url the server is not ours to signal: the samples are then not after GC, and the
 * report says so. Pinned by default where taskset and two CPUs exist (the server and an
 * embedded PostgreSQL on CPU 0, this process, the generator, on CPU 1; `--no-pin` shares them). Exit code: 0 = RSS growth within --max-growth, 1 = above, 2 = bad usage or setup.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startBenchServer, type BenchServer } from './bench-server.ts'
import { decidePinning, PINNED_CPUS, pinProcess } from './load/cpu-pinning.ts'
import {
  collectFixtures, createRequestMix, defaultMixEntries, formatResultText, judgeSlo, parsePrometheusSums, runOpenModelLoad, writeResultFiles
} from './load/index.ts'
import { renderLineChart, escapeXml } from './load/svg-chart.ts'
import { exitWith, positive, UsageError } from './cli-flags.ts'

export interface MemorySample {
  /** Seconds since the load started. */
  second: number
  rssBytes: number
  heapUsedBytes: number | null
}

export interface GrowthSummary {
  /** Samples after the warm-up, the ones judged. */
  samplesJudged: number
  baselineBytes: number
  finalBytes: number
  /** (final - baseline) / baseline. */
  growth: number
  /** Least-squares slope over the judged samples, as a fraction of the baseline per hour. */
  slopePerHour: number
}

/** Growth of one series after the warm-up; null with fewer than two judged samples. */
export function computeGrowth (points: ReadonlyArray<{ second: number, value: number }>, warmupSeconds: number): GrowthSummary | null {
  const judged = points.filter((point) => point.second >= warmupSeconds)
  if (judged.length < 2) return null
  // A few samples at each end, medians: one GC that happened to leave more behind is noise.
  const k = Math.max(1, Math.min(6, Math.floor(judged.length / 5)))
  const baselineBytes = median(judged.slice(0, k).map((point) => point.value))
  const finalBytes = median(judged.slice(-k).map((point) => point.value))
  const slopePerSecond = leastSquaresSlope(judged.map((point) => [point.second, point.value]))
  return {
    samplesJudged: judged.length,
    baselineBytes,
    finalBytes,
    growth: (finalBytes - baselineBytes) / baselineBytes,
    slopePerHour: slopePerSecond * 3600 / baselineBytes
  }
}

export function leastSquaresSlope (points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n
  let covariance = 0
  let varianceX = 0
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY)
    varianceX += (x - meanX) ** 2
  }
  return varianceX === 0 ? 0 : covariance / varianceX
}

// Private:

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const MiB = 1024 * 1024
/** The signal bench/gc-on-signal.ts answers (not imported: that module needs --expose-gc). */
const GC_SIGNAL = 'SIGWINCH'
const mb = (bytes: number): string => (bytes / MiB).toFixed(1)
const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)} %`

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '3600' },
      rate: { type: 'string', default: '1000' },
      'sample-every': { type: 'string', default: '10' },
      warmup: { type: 'string' },
      'max-growth': { type: 'string', default: '5' },
      url: { type: 'string' },
      users: { type: 'string', default: '200' },
      'notes-per-user': { type: 'string', default: '20' },
      workers: { type: 'string', default: '1' },
      'database-url': { type: 'string', default: process.env.DATABASE_URL },
      'out-dir': { type: 'string', default: 'bench/results' },
      pin: { type: 'boolean', default: true }
    },
    allowNegative: true
  })
  const duration = positive('--duration', values.duration!)
  const rate = positive('--rate', values.rate!)
  const sampleEvery = positive('--sample-every', values['sample-every']!)
  // Default warm-up: a tenth of the run, at most five minutes (the caches' warm-up).
  const warmup = values.warmup === undefined ? Math.min(300, Math.round(duration / 10)) : positive('--warmup', values.warmup, true)
  const maxGrowth = positive('--max-growth', values['max-growth']!) / 100
  const users = positive('--users', values.users!)
  if (duration - warmup < 2 * sampleEvery) throw new UsageError(`--duration must leave at least two samples after the ${warmup} s warm-up: ${duration}`)

  let server: BenchServer | undefined
  // Only a server we start can be pinned; against --url the note says nothing is.
  const pinning = values.url === undefined ? decidePinning(values.pin !== false) : { pin: false, note: 'not pinned (--url: the server is not ours)' }
  process.stderr.write(`soak: ${pinning.note}\n`)
  if (pinning.pin) await pinProcess(process.pid, PINNED_CPUS.generator)
  if (values.url === undefined) {
    server = await startBenchServer({
      cpus: pinning.pin ? PINNED_CPUS.server : undefined,
      postgresCpus: pinning.pin ? PINNED_CPUS.server : undefined,
      users,
      notesPerUser: positive('--notes-per-user', values['notes-per-user']!),
      workers: positive('--workers', values.workers!),
      databaseUrl: values['database-url'] || undefined,
      nodeArgs: ['--expose-gc'],
      preloads: ['./bench/gc-on-signal.ts']
    })
  }
  try {
    const url = server?.url ?? values.url!
    const metricsUrl = server?.metricsUrl ?? new URL('/metrics', url).href
    const afterGc = server !== undefined
    const fixtures = await collectFixtures({ url, users })
    const mix = createRequestMix({ entries: defaultMixEntries, fixtures })
    const samples: MemorySample[] = []
    const started = performance.now()
    const takeSample = async (): Promise<void> => {
      if (server !== undefined) {
        try {
          process.kill(server.pid, GC_SIGNAL)
        } catch {
          return // the server is gone: the load's errors will say so
        }
        await new Promise((resolve) => setTimeout(resolve, 300)) // the GC runs between two requests
      }
      const sample = await scrapeMemory(metricsUrl, (performance.now() - started) / 1000)
      if (sample === null) return
      samples.push(sample)
      process.stderr.write(`soak: ${sample.second.toFixed(0)} s  RSS ${mb(sample.rssBytes)} MiB  heap ${sample.heapUsedBytes === null ? 'n/a' : mb(sample.heapUsedBytes)} MiB` +
        `${sample.second < warmup ? '  (warm-up)' : ''}\n`)
    }
    await takeSample()
    let pending = Promise.resolve()
    const timer = setInterval(() => { pending = pending.then(takeSample) }, sampleEvery * 1000)
    const result = await runOpenModelLoad({ url, rate, durationSeconds: duration, mix, metricsUrl })
    clearInterval(timer)
    await pending
    await takeSample()

    const rss = computeGrowth(samples.map((s) => ({ second: s.second, value: s.rssBytes })), warmup)
    const heapPoints = samples.filter((s) => s.heapUsedBytes !== null).map((s) => ({ second: s.second, value: s.heapUsedBytes! }))
    const heap = computeGrowth(heapPoints, warmup)
    if (rss === null) throw new Error('fewer than two memory samples after the warm-up: is /metrics reachable?')
    const passed = rss.growth <= maxGrowth
    const settings = { rate, durationSeconds: duration, sampleEverySeconds: sampleEvery, warmupSeconds: warmup, maxGrowth, afterGc, workers: Number(values.workers), users, pinning: pinning.note }
    const summary = formatSummary(settings, rss, heap, passed, result)
    const data = { kind: 'soak', startedAt: result.startedAt, settings, rss, heap, passed, samples, load: result }
    const files = await writeResultFiles(values['out-dir']!, `soak-${rate}rps-${duration}s`, data, renderSoakHtml(summary, samples, warmup))
    const markdownPath = files.jsonPath.replace(/\.json$/, '.md')
    writeFileSync(markdownPath, summary)
    process.stdout.write(`${summary}\n${formatResultText(result, judgeSlo(result))}\nJSON: ${files.jsonPath}\nHTML: ${files.htmlPath}\nMarkdown: ${markdownPath}\n`)
    return passed ? 0 : 1
  } finally {
    await server?.stop()
  }
}

async function scrapeMemory (metricsUrl: string, second: number): Promise<MemorySample | null> {
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })
    const sums = parsePrometheusSums(await response.text(), ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes'])
    const rssBytes = sums.get('process_resident_memory_bytes')
    return rssBytes === undefined ? null : { second, rssBytes, heapUsedBytes: sums.get('nodejs_heap_size_used_bytes') ?? null }
  } catch {
    return null
  }
}

function formatSummary (settings: { rate: number, durationSeconds: number, warmupSeconds: number, maxGrowth: number, afterGc: boolean, workers: number, pinning: string },
  rss: GrowthSummary, heap: GrowthSummary | null, passed: boolean, load: Awaited<ReturnType<typeof runOpenModelLoad>>): string {
  const row = (name: string, growth: GrowthSummary | null): string => growth === null
    ? `| ${name} | n/a | n/a | n/a | n/a |`
    : `| ${name} | ${mb(growth.baselineBytes)} | ${mb(growth.finalBytes)} | ${percent(growth.growth)} | ${percent(growth.slopePerHour)} |`
  return [
    `## Soak: ${settings.rate} rps for ${settings.durationSeconds} s (${settings.workers} worker${settings.workers === 1 ? '' : 's'}) — ${passed ? 'PASS' : 'FAIL'}`,
    '',
    `Judged after a ${settings.warmupSeconds} s warm-up; RSS growth must be ≤ ${percent(settings.maxGrowth)}. ` +
      (settings.afterGc ? 'Each sample follows a forced full GC in the server.' : 'Samples are NOT after GC (the server was given by --url).') + ` CPU: ${settings.pinning}.`,
    '',
    '| series | after warm-up MiB | at the end MiB | growth | slope per hour |',
    '|---|---:|---:|---:|---:|',
    row('RSS', rss),
    row('heap used', heap),
    '',
    `Load: ${load.requests.sent} requests, success ${percent(load.successRate)}, p99 ${load.latencyMs.p99} ms, achieved ${load.achievedRps.completed} rps` +
      (load.generator.keptUp ? '' : ' (the generator fell behind its schedule: read with care)'),
    ''
  ].join('\n')
}

function renderSoakHtml (summaryMarkdown: string, samples: MemorySample[], warmup: number): string {
  const chart = renderLineChart({
    title: `Server memory after GC (warm-up ends at ${warmup} s)`,
    xLabel: 'seconds since the load started',
    yLabel: 'MiB',
    series: [
      { name: 'RSS', color: '#1f77b4', points: samples.map((s) => [s.second, s.rssBytes / MiB]) },
      { name: 'heap used', color: '#ff7f0e', points: samples.map((s) => [s.second, s.heapUsedBytes === null ? null : s.heapUsedBytes / MiB]) }
    ]
  })
  return `<!doctype html><html><head><meta charset="utf-8"><title>Jotter soak</title>
<style>body{font-family:system-ui,sans-serif;max-width:860px;margin:2em auto;padding:0 1em}</style></head>
<body><pre>${escapeXml(summaryMarkdown)}</pre>${chart}</body></html>\n`
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  if (process.argv.includes('--help')) {
    process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 15).map((line) => line.replace(/^ \*\/? ?/, '')).join('\n') + '\n')
    process.exit(0)
  }
  exitWith('soak', main(process.argv.slice(2)))
}
