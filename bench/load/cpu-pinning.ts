/**
 * CPU pinning for measurements on a small machine: the server (and the PostgreSQL we start)
 * on one core, the load generator on another, so the generator's own CPU does not show up as
 * server latency. Done with `taskset` (util-linux) when it exists; the CPUs a process may run
 * on are read back from /proc, so a report states what was in force, not what was asked for.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** What a load report says about pinning; null = not known. */
export interface PinningReport {
  /** The CPUs the generator may run on, e.g. "1" or "0-1". */
  generator: string | null
  server: string | null
  postgres: string | null
  /** Every CPU this machine offers, e.g. "0-1": a process allowed all of them is not pinned. */
  online: string | null
}

/** The absolute path of `taskset`, or null when it is not on PATH (not Linux, no util-linux). */
export function findTaskset (): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'taskset'))) return join(dir, 'taskset')
  }
  return null
}

/** Cpus_allowed_list of a process ("self" for this one), or null when /proc cannot say. */
export function allowedCpus (pid: number | 'self'): string | null {
  try {
    return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null
  } catch {
    return null
  }
}

export function onlineCpus (): string | null {
  try {
    return readFileSync('/sys/devices/system/cpu/online', 'utf8').trim()
  } catch {
    return null
  }
}

/**
 * Pins a running process, all its threads (`-a`: libuv and V8 helper threads too) and, with
 * `withChildren`, the children it has already forked (a postmaster's background workers; the
 * backends it forks later inherit the postmaster's affinity). Returns the CPUs now in force.
 */
export async function pinProcess (pid: number, cpus: string, { withChildren = false } = {}): Promise<string | null> {
  const taskset = findTaskset()
  if (taskset === null) throw new Error('taskset is not on PATH (util-linux); cannot pin')
  const pids = withChildren ? [pid, ...childrenOf(pid)] : [pid]
  for (const target of pids) await run(taskset, ['-a', '-p', '-c', cpus, String(target)])
  return allowedCpus(pid)
}

/**
 * The CPUs of a PostgreSQL this process started (its postmaster), pinned first to `cpus` when
 * given; null for a server that is not ours (no pid): not ours to pin, and its CPUs unknown.
 */
export async function pinPostgres (postmasterPid: number | null, cpus: string | undefined): Promise<string | null> {
  if (postmasterPid === null) return null
  // Backends are forked later by the postmaster and inherit its CPUs.
  return cpus === undefined ? allowedCpus(postmasterPid) : pinProcess(postmasterPid, cpus, { withChildren: true })
}

/** The command line that runs `command` on `cpus`: taskset's own, so every thread inherits it. */
export function pinnedCommand (cpus: string, command: string, args: readonly string[]): { command: string, args: string[] } {
  const taskset = findTaskset()
  if (taskset === null) throw new Error('taskset is not on PATH (util-linux); cannot pin')
  return { command: taskset, args: ['-c', cpus, command, ...args] }
}

/** "0,2-3" → [0, 2, 3]. */
export function parseCpuList (list: string): number[] {
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number)
    return Number.isInteger(from) && Number.isInteger(to) && from <= to ? Array.from({ length: to - from + 1 }, (_, k) => from + k) : []
  })
}

/** Where a pinned benchmark puts the server (and the PostgreSQL it starts), and its load generator. */
export const PINNED_CPUS = Object.freeze({ server: '0', generator: '1' })

export interface PinningDecision {
  pin: boolean
  /** One line for the report: what is pinned where, or why nothing is. */
  note: string
}

/**
 * The benchmarks pin by default: on a small machine the generator's own CPU otherwise shows up
 * as server latency. Pinning needs taskset and CPUs 0 and 1; without them (or with
 * `wanted` false: --no-pin) the run goes on unpinned and the note says why.
 */
export function decidePinning (wanted: boolean): PinningDecision {
  if (!wanted) return { pin: false, note: 'not pinned (--no-pin): the server, PostgreSQL and the generator share every CPU' }
  const cpus = allowedCpus('self')
  const usable = cpus === null ? [] : parseCpuList(cpus)
  const reason = findTaskset() === null
    ? 'taskset is not on PATH'
    : usable.includes(Number(PINNED_CPUS.server)) && usable.includes(Number(PINNED_CPUS.generator)) ? null : `this process may only use CPUs ${cpus ?? 'unknown'}`
  return reason === null
    ? { pin: true, note: `pinned: server and PostgreSQL on CPU ${PINNED_CPUS.server}, generator on CPU ${PINNED_CPUS.generator} (--no-pin to share the CPUs)` }
    : { pin: false, note: `not pinned (${reason}): the server, PostgreSQL and the generator share the CPUs` }
}

export function describePinning (pinning: PinningReport): string {
  const all = pinning.online
  const one = (who: string, cpus: string | null): string =>
    cpus === null ? `${who} unknown` : cpus === all ? `${who} not pinned (CPUs ${cpus})` : `${who} on CPU ${cpus}`
  return [one('server', pinning.server), one('PostgreSQL', pinning.postgres), one('generator', pinning.generator)].join(', ')
}

// Private:

function childrenOf (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((text) => text !== '').map(Number)
  } catch {
    return []
  }
}
