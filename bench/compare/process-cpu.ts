/**
 * CPU time of the processes under test, from /proc: a server process (utime + stime, all its
 * threads), and a PostgreSQL server as a whole — the postmaster, every process it has forked
 * (backends, autovacuum, WAL writer, parallel workers), and those already gone (their time is
 * in the postmaster's cutime + cstime once it has reaped them). Read before and after a run,
 * the difference is what the run cost, whoever in PostgreSQL spent it.
 *
 * Linux only; where /proc cannot say, the figure is null and the report says "n/a".
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Seconds of CPU, or null when /proc cannot be read. */
export type CpuReader = () => number | null

/** The fields of /proc/<pid>/stat that count CPU, in clock ticks. */
export interface StatTimes { utime: number, stime: number, cutime: number, cstime: number }

/**
 * Parses a /proc/<pid>/stat line. The command name (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so the fields are counted from the last ")".
 */
export function parseStatTimes (line: string): StatTimes {
  const close = line.lastIndexOf(')')
  if (close === -1) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`)
  // After ")": field 3 (state) is index 0, so field n is index n - 3.
  const fields = line.slice(close + 2).split(' ')
  const tick = (field: number): number => {
    const value = Number(fields[field - 3])
    if (!Number.isInteger(value) || value < 0) throw new Error(`/proc/<pid>/stat field ${field} is not a tick count: ${JSON.stringify(fields[field - 3])}`)
    return value
  }
  return { utime: tick(14), stime: tick(15), cutime: tick(16), cstime: tick(17) }
}

/** The CPU one process (all its threads) has used so far. */
export function processCpu (pid: number): CpuReader {
  return () => {
    const times = readStat(pid)
    return times === null ? null : (times.utime + times.stime) / ticksPerSecond()
  }
}

/**
 * The CPU a PostgreSQL server has used so far. The children are read before the postmaster:
 * one that exits in between is then counted twice rather than not at all (a backend of a pool
 * rarely exits during a run; the error is one process's time, either way).
 */
export function postgresServerCpu (postmasterPid: number): CpuReader {
  return () => {
    let ticks = 0
    for (const child of childrenOf(postmasterPid)) {
      const times = readStat(child)
      if (times !== null) ticks += times.utime + times.stime + times.cutime + times.cstime
    }
    const postmaster = readStat(postmasterPid)
    if (postmaster === null) return null
    return (ticks + postmaster.utime + postmaster.stime + postmaster.cutime + postmaster.cstime) / ticksPerSecond()
  }
}

/** The parent of `pid` (a backend's parent is its postmaster), or null. */
export function parentOf (pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const parent = Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isInteger(parent) && parent > 0 ? parent : null
  } catch {
    return null
  }
}

// Private:

let cachedTicksPerSecond: number | undefined

/** USER_HZ: 100 on every Linux we know, but asked rather than assumed. */
function ticksPerSecond (): number {
  if (cachedTicksPerSecond === undefined) {
    let value = Number.NaN
    try {
      value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    } catch { /* no getconf: the kernel's long-standing default below */ }
    cachedTicksPerSecond = Number.isInteger(value) && value > 0 ? value : 100
  }
  return cachedTicksPerSecond
}

function readStat (pid: number): StatTimes | null {
  try {
    return parseStatTimes(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}

function childrenOf (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((text) => text !== '').map(Number)
  } catch {
    return []
  }
}
