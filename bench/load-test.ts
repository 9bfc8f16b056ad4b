/**
 * `npm run load-test -- --rate 1000 --duration 300 [--url URL] [--mix read|write|FILE] [--users N] ...`
 *
 * Open-model load against a running Jotter: log in seeded users, then send requests on a fixed
 * schedule and judge the SLO. With a database URL (bench:server passes one) it also fails the
 * run when connections are left idle in transaction afterwards. Our own code because no open-model load generator exists in npm
 * or Debian (see bench/load/run-open-model-load.ts). `--help` lists every flag.
 *
 * Exit code: 0 = SLO met, 1 = SLO failed (or, with --find-max, not even the first stage met it),
 * 2 = bad usage or a failed setup.
 */
import { performance } from 'node:perf_hooks'
import { UsageError, formatLoadTestHelp, parseLoadTestArgs } from './load/cli-options.ts'
import type { LoadTestCliOptions } from './load/cli-options.ts'
import { allowedCpus, describePinning, onlineCpus, pinProcess } from './load/cpu-pinning.ts'
import type { PinningReport } from './load/cpu-pinning.ts'
import { timeLoopbackWork, timeReferenceWork } from './load/machine-speed.ts'
import { describeIdleTransactions, findIdleTransactions } from './load/idle-transactions.ts'
import {
  collectFixtures, createRequestMix, ownNotesPerUserFor, exitCodeOf, findMaxRate, formatFindMaxText, formatProgressLine,
  formatResultText, formatStageLine, judgeSlo, renderFindMaxHtmlReport, resolveMix, renderHtmlReport, runOpenModelLoad, writeResultFiles
} from './load/index.ts'
import type { LoadResult, OpenModelLoadOptions, RequestMix, SloThresholds } from './load/index.ts'

async function main (argv: readonly string[]): Promise<number> {
  let options: Readonly<LoadTestCliOptions> | null
  try {
    options = parseLoadTestArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`${error.message}\nRun with --help for the list of flags.\n`)
    return 2
  }
  if (options === null) {
    process.stdout.write(`${formatLoadTestHelp()}\n`)
    return 0
  }

  let mix: RequestMix
  let pinning: PinningReport
  try {
    if (options.cpus !== undefined) await pinProcess(process.pid, options.cpus)
    pinning = { generator: allowedCpus('self'), server: process.env.JOTTER_SERVER_CPUS ?? null, postgres: process.env.JOTTER_POSTGRES_CPUS ?? null, online: onlineCpus() }
    process.stderr.write(`setup: pinning: ${describePinning(pinning)}\n`)
    mix = await setUp(options)
  } catch (error) {
    process.stderr.write(`setup failed: ${(error as Error).message}\n`)
    return 2
  }

  const thresholds: SloThresholds = { p99Ms: options.sloP99Ms, successRate: options.sloSuccess }
  const common: Omit<OpenModelLoadOptions, 'rate' | 'durationSeconds'> = {
    url: options.url,
    mix,
    timeoutMs: options.timeoutMs,
    connections: options.connections,
    pipelining: options.pipelining,
    metricsUrl: options.metricsUrl,
    onProgress: (progress) => { process.stderr.write(`${formatProgressLine(progress)}\n`) }
  }

  if (options.findMax) {
    const search = await findMaxRate({
      ...common,
      startRate: options.rate,
      maxRate: Math.max(options.maxRate, options.rate),
      stepDurationSeconds: options.stepDurationSeconds,
      stepFactor: options.stepFactor,
      stepRps: options.stepRps,
      warmupSeconds: options.warmupSeconds,
      thresholds,
      onStageStart: (rate) => { process.stderr.write(`--- stage ${rate} rps for ${options.stepDurationSeconds} s ---\n`) },
      onStage: (stage) => { process.stderr.write(`${formatStageLine(stage)}\n`) }
    })
    const files = await writeResultFiles(options.outDir, `find-max-from-${options.rate}rps`, { ...search, pinning }, renderFindMaxHtmlReport(search))
    process.stdout.write(`${formatFindMaxText(search)}\nPinning: ${describePinning(pinning)}\nJSON: ${files.jsonPath}\nHTML: ${files.htmlPath}\n`)
    return search.maxPassingRate === null ? 1 : 0
  }

  const serverCpus = process.env.JOTTER_SERVER_CPUS ?? null
  const before = await timeMachine(serverCpus)
  const run = await runOpenModelLoad({ ...common, rate: options.rate, durationSeconds: options.durationSeconds, warmupSeconds: options.warmupSeconds })
  const after = before === undefined ? undefined : await timeMachine(serverCpus)
  const idle = options.databaseUrl === null
    ? []
    : await findIdleTransactions({ adminUrl: options.databaseUrl, database: decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1)) })
  const result: LoadResult = {
    ...run,
    pinning,
    ...(before === undefined || after === undefined ? {} : { machine: { cpus: serverCpus, beforeMs: before.referenceMs, afterMs: after.referenceMs, loopbackBeforeMs: before.loopbackMs, loopbackAfterMs: after.loopbackMs } }),
    ...(options.databaseUrl === null ? {} : { idleInTransaction: { count: idle.length, description: describeIdleTransactions(idle) } })
  }
  const verdict = judgeSlo(result, thresholds)
  const files = await writeResultFiles(options.outDir, `load-${options.rate}rps`, { ...result, slo: { thresholds, verdict } }, renderHtmlReport(result, verdict))
  process.stdout.write(`${formatResultText(result, verdict)}\nJSON: ${files.jsonPath}\nHTML: ${files.htmlPath}\n`)
  if (idle.length > 0) {
    process.stdout.write(`FAIL: ${describeIdleTransactions(idle)}\n`)
    return 1
  }
  return exitCodeOf(verdict)
}

/** Both machine-speed works on the server's CPUs; undefined when either cannot be timed. */
async function timeMachine (cpus: string | null): Promise<{ referenceMs: number, loopbackMs: number } | undefined> {
  try {
    return { referenceMs: await timeReferenceWork(cpus), loopbackMs: await timeLoopbackWork(cpus) }
  } catch {
    return undefined
  }
}

async function setUp (options: Readonly<LoadTestCliOptions>): Promise<RequestMix> {
  const entries = await resolveMix(options.mix)
  const started = performance.now()
  process.stderr.write(`setup: logging in ${options.users} seeded users at ${options.url} ...\n`)
  const fixtures = await collectFixtures({
    url: options.url,
    users: options.users,
    loginConcurrency: options.loginConcurrency,
    maxIds: options.maxIds,
    ownNotesPerUser: ownNotesPerUserFor(entries, options.writeShare)
  })
  process.stderr.write(`setup: ${fixtures.users.length} users, ${fixtures.userIds.length} user ids, ${fixtures.noteIds.length} note ids ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  return createRequestMix({ entries, fixtures, writeShare: options.writeShare, idSkew: options.idSkew })
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (error: unknown) => {
    process.stderr.write(`load-test failed: ${(error as Error)?.stack ?? String(error)}\n`)
    process.exitCode = 2
  }
)
