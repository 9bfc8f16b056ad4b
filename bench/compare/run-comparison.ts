/**
 * One `npm run bench:compare` run as a library (the command and its test call it): the seeded
 * template, the answer check and the floor's bytes, then every mix against every target, one
 * target at a time, each database target on its own copy of the data. Whatever it started —
 * servers, database copies, the template, an embedded PostgreSQL, the temporary directory —
 * is stopped and removed on every path, a failed one included.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { cpus as onlineCpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { sampleResponseBodies, startBareServer } from '../bare-server.ts'
import { BENCH_JWT_SECRET, startJotterProcess } from '../bench-server.ts'
import { decidePinning, PINNED_CPUS, pinProcess } from '../load/cpu-pinning.ts'
import { startReferenceServer } from '../reference-server/start.ts'
import { compareAnswers, createCompareMix, replayedMix, type AnswerCheck, type MixName } from './mixes.ts'
import { measurePasses, type PassesOptions } from './passes.ts'
import { processCpu } from './process-cpu.ts'
import { TARGET_LABELS, type ComparisonReport, type TargetName, type TargetRun } from './report.ts'
import { createSeededTemplate, type SeededTemplate } from './seeded-template.ts'
import { findIdleTransactions } from '../load/idle-transactions.ts'
import { topSelfTime, type CpuProfile } from '../flamegraph.ts'

/** Requests per second, or a share of the reference server's closed loop on the same mix. */
export type RateSetting = { perSecond: number } | { shareOfReference: number }

export interface ComparisonOptions {
  /** Where each database target's server writes its V8 CPU profile (`node --cpu-prof`); unset: none. */
  cpuProfileDir?: string
  durationSeconds: number
  warmupSeconds: number
  /** The fixed open-model rate: requests per second, or a share of the reference's closed loop on the same mix. */
  rate: RateSetting
  /** Connections of the closed loop and of the open-model pool. */
  connections: number
  users: number
  notesPerUser: number
  /** Servers and an embedded PostgreSQL on CPU 0, this process on CPU 1 (where possible). */
  pin: boolean
  mixes: MixName[]
  targets: TargetName[]
  /** A PostgreSQL server for the databases; unset = an embedded one. */
  databaseUrl?: string
  /** Read requests sent to both Jotter and the reference server to compare their answers. */
  answerSamples?: number
  seedConcurrency?: number
  log?: (line: string) => void
  /** Checked between passes: true ends the run early, everything still cleaned up. */
  stopRequested?: () => boolean
}

export const comparisonDefaults = Object.freeze({ answerSamples: 60, seedConcurrency: 32 })

/** What Jotter runs with for target (c): both caches off (src/config.ts). */
export const CACHES_OFF = Object.freeze({ CACHE_ENABLED: 'false', ROW_CACHE_MAX_BYTES: '0' })

export async function runComparison (options: ComparisonOptions): Promise<ComparisonReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`bench:compare: ${line}\n`))
  const startedAt = new Date().toISOString()
  const loadAverageAtStart = loadavg()
  const pinning = decidePinning(options.pin)
  log(pinning.note)
  const serverCpus = pinning.pin ? PINNED_CPUS.server : undefined
  if (pinning.pin) await pinProcess(process.pid, PINNED_CPUS.generator)
  const workDir = await mkdtemp(join(tmpdir(), 'jotter-compare-'))
  let template: SeededTemplate | undefined
  try {
    template = await createSeededTemplate({
      databaseUrl: options.databaseUrl,
      cpus: serverCpus,
      users: options.users,
      notesPerUser: options.notesPerUser,
      seedConcurrency: options.seedConcurrency ?? comparisonDefaults.seedConcurrency,
      log
    })
    const { answerCheck, bodiesFile } = await prepare(template, options, serverCpus, workDir, log)
    const runs: TargetRun[] = []
    const share = 'shareOfReference' in options.rate ? options.rate.shareOfReference : undefined
    if (share !== undefined && !options.targets.includes('reference')) throw new Error('--rate as a share of the reference needs the reference target')
    // A rate relative to the reference needs its closed loop first.
    const order = share === undefined ? options.targets : ['reference' as const, ...options.targets.filter((target) => target !== 'reference')]
    for (const mix of options.mixes) {
      let rate = share === undefined ? (options.rate as { perSecond: number }).perSecond : undefined
      for (const target of order) {
        log(`${TARGET_LABELS[target]}, ${mix} mix`)
        const run = { target, mix, ...await measureTarget(target, mix, template, bodiesFile, options, serverCpus, log, rate) }
        runs.push(run)
        if (rate === undefined) {
          rate = Math.max(1, Math.round(share! * run.closed.requestsPerSecond))
          log(`  fixed rate for the ${mix} mix: ${rate} req/s (${share! * 100} % of the reference's closed loop)`)
        }
      }
    }
    return {
      kind: 'bench-compare',
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: {
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        rate: 'perSecond' in options.rate ? `${options.rate.perSecond} req/s` : `${options.rate.shareOfReference * 100} % of the reference's closed loop`,
        connections: options.connections,
        users: options.users,
        notesPerUser: options.notesPerUser,
        mixes: options.mixes,
        targets: options.targets,
        pinning: pinning.note
      },
      // Every CPU of the machine, not the one this process is pinned to.
      machine: { cpus: onlineCpus().length, loadAverageAtStart, loadAverageAtEnd: loadavg() },
      seed: template.seed,
      answerCheck,
      runs
    }
  } finally {
    try {
      await template?.drop()
    } finally {
      await rm(workDir, { recursive: true, force: true })
    }
  }
}

// Private:

/**
 * On a copy of its own, with Jotter (default config) running: the reference server's answers
 * against Jotter's, and one answer per operation for the floor to replay.
 */
async function prepare (template: SeededTemplate, options: ComparisonOptions, cpus: string | undefined, workDir: string, log: (line: string) => void): Promise<{ answerCheck: AnswerCheck | null, bodiesFile: string | null }> {
  const withFloor = options.targets.includes('floor')
  const withReference = options.targets.includes('reference')
  if (!withFloor && !withReference) return { answerCheck: null, bodiesFile: null }
  let answerCheck: AnswerCheck | null = null
  let bodiesFile: string | null = null
  const copy = await template.copy('sample')
  try {
    const jotter = await startJotterProcess({ databaseUrl: copy.url, cpus })
    try {
      if (withReference) {
        const reference = await startReferenceServer({ databaseUrl: copy.url, jwtSecret: BENCH_JWT_SECRET, cpus })
        try {
          answerCheck = await compareAnswers(jotter.url, reference.url, createCompareMix('read', template.fixtures), options.answerSamples ?? comparisonDefaults.answerSamples)
          log(`reference vs Jotter: ${answerCheck.equal} of ${answerCheck.compared} answers byte-identical`)
        } finally {
          await reference.stop()
        }
      }
      if (withFloor) {
        // The write mix's operations include every other mix's: one file serves them all.
        const sampled = createCompareMix(options.mixes.some((mix) => mix !== 'read') ? 'write' : 'read', template.fixtures)
        bodiesFile = join(workDir, 'bodies.json')
        await writeFile(bodiesFile, JSON.stringify(await sampleResponseBodies(jotter.url, sampled)))
      }
    } finally {
      await jotter.stop()
    }
  } finally {
    await copy.drop()
  }
  return { answerCheck, bodiesFile }
}

/** `rate` undefined: the reference's own passes, which the rate is then set from (its fixed-rate pass runs at the share of its closed loop). */
async function measureTarget (target: TargetName, mix: MixName, template: SeededTemplate, bodiesFile: string | null, options: ComparisonOptions, cpus: string | undefined, log: (line: string) => void, rate: number | undefined): Promise<Omit<TargetRun, 'target' | 'mix'>> {
  const passes = (url: string, pid: number, metricsUrl: string | null, postgres: boolean): Promise<Omit<TargetRun, 'target' | 'mix' | 'idleInTransactionAfter'>> => {
    const requestMix = createCompareMix(mix, template.fixtures, { persistedQueries: target === 'jotter-hashes' })
    const settings: PassesOptions = {
      url,
      mix: target === 'floor' ? replayedMix(requestMix) : requestMix,
      serverCpu: processCpu(pid),
      postgresCpu: postgres ? template.postgresCpu : null,
      metricsUrl,
      reportCachesHeld: target === 'jotter' || target === 'jotter-hashes',
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      rate: rate ?? { shareOfClosedLoop: (options.rate as { shareOfReference: number }).shareOfReference },
      connections: options.connections,
      log,
      stopRequested: options.stopRequested ?? (() => false)
    }
    return measurePasses(settings)
  }
  if (target === 'floor') {
    if (bodiesFile === null) throw new Error('the floor needs the bodies sampled from Jotter')
    const bare = await startBareServer(bodiesFile)
    // A run ended by a second Ctrl-C must not leave it running (Jotter and the reference server do the same).
    const killOnExit = (): void => { try { process.kill(bare.pid, 'SIGKILL') } catch { /* gone */ } }
    process.once('exit', killOnExit)
    try {
      if (cpus !== undefined) await pinProcess(bare.pid, cpus)
      return { ...await passes(bare.url, bare.pid, null, false), idleInTransactionAfter: null }
    } finally {
      await bare.stop()
      process.removeListener('exit', killOnExit)
    }
  }
  const copy = await template.copy(`${target}_${mix}`)
  try {
    // With --cpu-prof, each server writes its V8 profile when it exits (its graceful stop).
    const profileDir = options.cpuProfileDir === undefined ? undefined : join(options.cpuProfileDir, `${target}-${mix}`)
    const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]
    const server = target === 'reference'
      ? await startReferenceServer({ databaseUrl: copy.url, jwtSecret: BENCH_JWT_SECRET, cpus, nodeArgs })
      : await startJotterProcess({ databaseUrl: copy.url, cpus, nodeArgs, env: target === 'jotter-off' ? { ...CACHES_OFF } : {} })
    try {
      const measured = await passes(server.url, server.pid, 'metricsUrl' in server ? server.metricsUrl : null, true)
      const idle = await findIdleTransactions({ adminUrl: copy.url, database: copy.name })
      return { ...measured, idleInTransactionAfter: idle.length }
    } finally {
      await server.stop()
      if (profileDir !== undefined) log(await describeProfiles(profileDir, TARGET_LABELS[target], mix))
    }
  } finally {
    await copy.drop()
  }
}

/** The functions with the most self time in the profiles a server wrote (bench/flamegraph.ts). */
async function describeProfiles (dir: string, label: string, mix: MixName): Promise<string> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.cpuprofile'))
  if (files.length === 0) return `${label}, ${mix} mix: no CPU profile was written in ${dir}`
  const lines = [`${label}, ${mix} mix: CPU profile ${join(dir, files[0])}, most self time:`]
  const profile = JSON.parse(await readFile(join(dir, files[0]), 'utf8')) as CpuProfile
  for (const row of topSelfTime(profile, 12)) lines.push(`  ${row.selfMs.toFixed(0).padStart(7)} ms  ${(row.share * 100).toFixed(1).padStart(5)} %  ${row.name}`)
  return lines.join('\n')
}
