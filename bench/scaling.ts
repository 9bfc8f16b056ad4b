/**
 * `npm run bench:scaling [-- --workers 1,2 --step-duration 10 --start-rate 100 --min-r2 0.9] [--through-haproxy]`
 *
 * Does throughput grow with WORKERS? For each worker count (default 1..os.availableParallelism())
 * a seeded Jotter is started over one shared database, and its throughput is the highest
 * arrival rate that still meets the SLO (p99 < --slo-p99 ms, success ≥ --slo-success): a coarse
 * find-max (×1.5 per stage), then a fine one (+10 % per stage) between the last pass and the
 * first failure; a failing stage is run once more and counts only if it fails again. Reported: throughput per worker count, scaling efficiency T(n) / (n·T(1)), and
 * the R² of a straight line through (workers, throughput) — the target is R² > 0.9.
 *
 * What a small machine cannot show: the load generator, PostgreSQL and the workers share the
 * same cores, so on 2 cores two workers cannot double throughput, and with only two worker
 * counts a straight line fits any two points (R² = 1 by construction). The judged R² is
 * therefore computed with the origin (0 workers, 0 rps) as a third point when fewer than three
 * worker counts are measured; the output says which one it judged. Never pinned (unlike the
 * other benchmarks): pinning the server to one core would cap every worker count at that core. Exit code: 0 = judged R² ≥
 * --min-r2, 1 = below, 2 = bad usage or setup.
 *
 * With --through-haproxy the counts are instances of the scale-out topology (HAProxy, PgBouncer,
 * Redis; scripts/scale-out/) instead of WORKERS of one process; the server CPU column is n/a.
 */
import { availableParallelism, cpus } from 'node:os'
import { mkdir, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { createBenchDatabase } from './bench-server.ts'
import { startScalingTarget, type ScalingMode } from './scaling-targets.ts'
import { collectFixtures, createRequestMix, defaultMixEntries, findMaxRate, formatStageLine, judgeSlo, runOpenModelLoad, timestampForFileName } from './load/index.ts'
import type { FindMaxStage, LoadResult, OpenModelLoadOptions, RequestMix, SloThresholds } from './load/index.ts'
import { exitWith, positive, UsageError } from './cli-flags.ts'

export interface LinearFit {
  slope: number
  intercept: number
  /** 1 - SSres/SStot; NaN when every y is the same (nothing to explain). */
  rSquared: number
}

/** Ordinary least squares y = slope·x + intercept over the points. */
export function linearFit (points: ReadonlyArray<readonly [number, number]>): LinearFit {
  if (points.length < 2) throw new RangeError(`a line needs at least 2 points: ${points.length}`)
  const n = points.length
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n
  let sxy = 0
  let sxx = 0
  let totalSquares = 0
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY)
    sxx += (x - meanX) ** 2
    totalSquares += (y - meanY) ** 2
  }
  if (sxx === 0) throw new RangeError('a line needs at least 2 distinct x values')
  const slope = sxy / sxx
  const intercept = meanY - slope * meanX
  const residualSquares = points.reduce((sum, [x, y]) => sum + (y - (slope * x + intercept)) ** 2, 0)
  return { slope, intercept, rSquared: totalSquares === 0 ? NaN : 1 - residualSquares / totalSquares }
}

/** The R² the verdict uses: over the measured points, plus the origin when they are fewer than 3. */
export function judgedRSquared (points: ReadonlyArray<readonly [number, number]>): { rSquared: number, withOrigin: boolean } {
  const withOrigin = points.length < 3
  return { rSquared: linearFit(withOrigin ? [[0, 0], ...points] : points).rSquared, withOrigin }
}

export interface ThroughputResult {
  /** Highest rate that met the SLO; 0 when even the start rate failed. */
  throughputRps: number
  completedRps: number
  p99Ms: number
  serverCpuPercent: number | null
  /** False when the generator could not keep its schedule at that rate (it shares the machine). */
  generatorKeptUp: boolean
  /** The server's V8 heap allocation per request at that rate; null = not exported. */
  allocatedBytesPerRequest: number | null
  /** p99 of the server's GC pauses at that rate; null = not exported. */
  gcPauseP99Ms: number | null
}

interface WorkerResult extends ThroughputResult {
  workers: number
}

export interface ThroughputOptions {
  startRate: number
  maxRate: number
  stepSeconds: number
  thresholds: SloThresholds
  /** Default: the URL's /metrics; null for a server without one. */
  metricsUrl?: string | null
}

/** The highest arrival rate within the SLO: coarse find-max ×1.5, then +10 % steps. */
export async function measureThroughput (url: string, mix: RequestMix, options: ThroughputOptions): Promise<ThroughputResult> {
  // A failing stage runs once more and counts as failed only if it fails again: on a shared
  // machine one stall elsewhere would otherwise end the search below the real capacity.
  const runStage = async (stage: OpenModelLoadOptions): Promise<LoadResult> => {
    const first = await runOpenModelLoad(stage)
    if (judgeSlo(first, options.thresholds).passed) return first
    process.stderr.write(`  stage ${stage.rate} rps failed (p99 ${first.latencyMs.p99} ms, success ${(first.successRate * 100).toFixed(2)} %): running it once more\n`)
    return runOpenModelLoad(stage)
  }
  const common = { url, mix, runStage, metricsUrl: options.metricsUrl, thresholds: options.thresholds, stepDurationSeconds: options.stepSeconds, onStage: (stage: FindMaxStage) => process.stderr.write(`  ${formatStageLine(stage)}\n`) }
  const coarse = await findMaxRate({ ...common, startRate: options.startRate, maxRate: options.maxRate, stepFactor: 1.5, warmupSeconds: Math.min(5, options.stepSeconds) })
  let best = bestStage(coarse.stages)
  const failed = coarse.stages.at(-1)!
  if (best !== undefined && !failed.verdict.passed) {
    const step = Math.max(1, Math.round(best.rate * 0.1))
    if (best.rate + step < failed.rate) {
      const fine = await findMaxRate({ ...common, startRate: best.rate + step, maxRate: failed.rate - 1, stepRps: step })
      best = bestStage([best, ...fine.stages]) ?? best
    }
  }
  const shown = best?.result ?? failed.result
  return {
    throughputRps: best?.rate ?? 0,
    completedRps: best === undefined ? 0 : best.result.achievedRps.completed,
    p99Ms: shown.latencyMs.p99,
    serverCpuPercent: shown.server.meanCpuPercent,
    generatorKeptUp: shown.generator.keptUp,
    allocatedBytesPerRequest: shown.server.allocatedBytesPerRequest ?? null,
    gcPauseP99Ms: shown.server.gcPauses?.p99Ms ?? null
  }
}

// Private:

function bestStage (stages: readonly FindMaxStage[]): FindMaxStage | undefined {
  return stages.filter((stage) => stage.verdict.passed).sort((a, b) => b.rate - a.rate)[0]
}

async function main (argv: string[]): Promise<number> {
  const cores = availableParallelism()
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: Array.from({ length: cores }, (_, i) => i + 1).join(',') },
      'step-duration': { type: 'string', default: '10' },
      'start-rate': { type: 'string', default: '100' },
      'max-rate': { type: 'string', default: '50000' },
      'slo-p99': { type: 'string', default: '200' },
      'slo-success': { type: 'string', default: '99' },
      'min-r2': { type: 'string', default: '0.9' },
      users: { type: 'string', default: '200' },
      'notes-per-user': { type: 'string', default: '20' },
      'database-url': { type: 'string', default: process.env.DATABASE_URL },
      'out-dir': { type: 'string', default: 'bench/results' },
      'through-haproxy': { type: 'boolean', default: false }
    }
  })
  const mode: ScalingMode = values['through-haproxy'] === true ? 'instances' : 'workers'
  const workerCounts = values.workers!.split(',').map((raw) => positive('--workers', raw))
  if (new Set(workerCounts).size < 2) throw new UsageError(`--workers needs at least two different counts: ${values.workers}`)
  const thresholds = { p99Ms: positive('--slo-p99', values['slo-p99']!), successRate: positive('--slo-success', values['slo-success']!) / 100 }
  const measure = { startRate: positive('--start-rate', values['start-rate']!), maxRate: positive('--max-rate', values['max-rate']!), stepSeconds: positive('--step-duration', values['step-duration']!), thresholds }
  const users = positive('--users', values.users!)
  const minR2 = Number(values['min-r2'])

  const database = await createBenchDatabase({ users, notesPerUser: positive('--notes-per-user', values['notes-per-user']!), databaseUrl: values['database-url'] || undefined })
  const results: WorkerResult[] = []
  let mix: RequestMix | undefined
  try {
    for (const workers of workerCounts) {
      const server = await startScalingTarget(mode, workers, database.url)
      try {
        // One set of tokens for every server: same database, same fixed JWT_SECRET.
        mix ??= createRequestMix({ entries: defaultMixEntries, fixtures: await collectFixtures({ url: server.url, users }) })
        process.stderr.write(`scaling: ${mode === 'workers' ? 'WORKERS' : 'instances behind HAProxy'}=${workers}\n`)
        results.push({ workers, ...await measureThroughput(server.url, mix, { ...measure, metricsUrl: server.metricsUrl }) })
      } finally {
        await server.stop()
      }
    }
  } finally {
    await database.stop()
  }

  const points = results.map((r) => [r.workers, r.throughputRps] as const)
  const measuredFit = linearFit(points)
  const judged = judgedRSquared(points)
  const passed = judged.rSquared >= minR2
  const report = formatReport(results, measuredFit, judged, passed, minR2, cores, thresholds, mode)
  process.stdout.write(`${report}\n`)
  await mkdir(values['out-dir']!, { recursive: true })
  const path = `${values['out-dir']}/${timestampForFileName(new Date())}-scaling.json`
  await writeFile(path, JSON.stringify({ kind: 'scaling', mode, cores, cpuModel: cpus()[0]?.model, thresholds, results, measuredFit, judged, minR2, passed }, null, 2) + '\n')
  process.stdout.write(`JSON: ${path}\n`)
  return passed ? 0 : 1
}

function formatReport (results: WorkerResult[], fit: LinearFit, judged: { rSquared: number, withOrigin: boolean }, passed: boolean, minR2: number, cores: number, thresholds: SloThresholds, mode: ScalingMode): string {
  const unit = mode === 'workers' ? 'WORKERS' : 'instances (behind HAProxy, PgBouncer)'
  const base = results.find((r) => r.workers === 1) ?? results[0]
  const efficiency = (r: WorkerResult): string => base.throughputRps === 0 ? 'n/a' : `${(r.throughputRps / (r.workers / base.workers * base.throughputRps) * 100).toFixed(0)} %`
  const r2 = (value: number): string => Number.isNaN(value) ? 'n/a' : value.toFixed(3)
  return [
    `## Throughput vs ${unit} (${cores} cores; SLO p99 < ${thresholds.p99Ms} ms, success ≥ ${(thresholds.successRate * 100).toFixed(1)} %) — ${passed ? 'PASS' : 'FAIL'}`,
    '',
    `| ${mode === 'workers' ? 'WORKERS' : 'instances'} | throughput rps (max within SLO) | completed rps | p99 ms | server CPU % | efficiency vs 1 |`,
    '|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.workers} | ${r.throughputRps} | ${r.completedRps} | ${r.p99Ms} | ${r.serverCpuPercent ?? 'n/a'} | ${efficiency(r)} |`),
    '',
    `Fit over the measured points: throughput ≈ ${fit.slope.toFixed(1)} × workers + ${fit.intercept.toFixed(1)}, R² ${r2(fit.rSquared)}` +
      (results.length < 3 ? ' (two points: a line fits them exactly, so this R² says nothing)' : ''),
    `Judged R² ${r2(judged.rSquared)} ${judged.withOrigin ? 'with the origin (0 workers, 0 rps) as a third point' : 'over the measured points'}; needs ≥ ${minR2}.`,
    '',
    'CPU: not pinned (the workers need every core).',
    '',
    `What this machine can show: the load generator, PostgreSQL and the workers all share ${cores} cores, so ` +
      'more workers compete with the generator and the database for the same CPU; throughput cannot grow in proportion ' +
      'to workers here, and the efficiency column says how far it got. A linear-scaling claim needs a generator and a database on other machines.' +
      (mode === 'instances' ? ' Through HAProxy, HAProxy, PgBouncer and Redis take their share of the same cores too.' : '')
  ].join('\n')
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  exitWith('bench:scaling', main(process.argv.slice(2)))
}
