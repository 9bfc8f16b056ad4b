/**
 * How often this machine takes a CPU away from a process that wants it: a busy loop in a fresh
 * Node process, pinned to one CPU, reads the clock as fast as it can and records every gap
 * between two reads longer than STALL_THRESHOLD_MS. A gap is time the loop did not run — the
 * hypervisor running another guest's vCPU, another process of this machine, an interrupt.
 * On an idle 2-vCPU VM here (2026-12-01, four probes) the loop lost its CPU 59-112 times in
 * 10 s, for up to 5-17 ms, 1.1-2.4 % of the time: a server on that CPU cannot answer faster
 * than the CPU is there, so these gaps are a floor under any tail latency measured on it. Our
 * own code: no package measures a vCPU's stalls.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { findTaskset, pinnedCommand } from './cpu-pinning.ts'

export const STALL_THRESHOLD_MS = 0.5

export interface CpuStalls {
  /** The CPU the probe ran on; null = wherever the OS put it. */
  cpu: string | null
  seconds: number
  /** Gaps longer than STALL_THRESHOLD_MS. */
  count: number
  /** Share of the probe's time lost in those gaps (0..1). */
  lostShare: number
  /** The longest gaps, longest first (ms, at most 5). */
  longestMs: number[]
  /** Gaps longer than 3 ms and 10 ms: what a p99 of 3 ms and a p99.9 of 10 ms are up against. */
  over3Ms: number
  over10Ms: number
}

/** The probe: prints the gaps it saw (ms) as a JSON array. */
export const STALL_PROBE = `
const { performance } = require('node:perf_hooks')
const threshold = Number(process.argv[1])
const end = performance.now() + Number(process.argv[2]) * 1000
const gaps = []
let last = performance.now()
for (;;) {
  const now = performance.now()
  if (now > end) break
  if (now - last > threshold) gaps.push(now - last)
  last = now
}
process.stdout.write(JSON.stringify(gaps))
`

/** Runs the probe for `seconds` on `cpu` (pinned when taskset exists) and summarises its gaps. */
export async function probeCpuStalls (cpu: string | null, seconds: number): Promise<CpuStalls> {
  const run = promisify(execFile)
  const probeArgs = ['-e', STALL_PROBE, String(STALL_THRESHOLD_MS), String(seconds)]
  const pinned = cpu !== null && findTaskset() !== null
  const { command, args } = pinned ? pinnedCommand(cpu, process.execPath, probeArgs) : { command: process.execPath, args: probeArgs }
  const { stdout } = await run(command, args, { maxBuffer: 64 * 1024 * 1024 })
  const gaps: unknown = JSON.parse(stdout)
  if (!Array.isArray(gaps) || !gaps.every((gap) => typeof gap === 'number')) throw new Error(`the stall probe printed ${stdout.slice(0, 80)}, not a list of gaps`)
  return summariseStalls(pinned ? cpu : null, seconds, gaps)
}

export function summariseStalls (cpu: string | null, seconds: number, gapsMs: readonly number[]): CpuStalls {
  const sorted = [...gapsMs].sort((a, b) => b - a)
  const lostMs = sorted.reduce((sum, gap) => sum + gap, 0)
  return {
    cpu,
    seconds,
    count: sorted.length,
    lostShare: lostMs / (seconds * 1000),
    longestMs: sorted.slice(0, 5),
    over3Ms: sorted.filter((gap) => gap > 3).length,
    over10Ms: sorted.filter((gap) => gap > 10).length
  }
}

export function describeCpuStalls (stalls: CpuStalls): string {
  return `${stalls.cpu === null ? 'any CPU' : `CPU ${stalls.cpu}`}: lost ${stalls.count} times > ${STALL_THRESHOLD_MS} ms in ${stalls.seconds} s ` +
    `(${(stalls.lostShare * 100).toFixed(2)} % of the time; ${stalls.over3Ms} > 3 ms, ${stalls.over10Ms} > 10 ms; ` +
    `longest ${stalls.longestMs.length === 0 ? 'none' : stalls.longestMs.map((gap) => gap.toFixed(1)).join(', ')} ms)`
}
