/**
 * How fast the server's CPU is right now: a fixed piece of JavaScript (JSON and Map work, no
 * I/O) timed in a fresh Node process on the server's CPUs while the server is idle, before the
 * load and after it. On a shared machine the same work took 873 to 1,506 ms from one minute to
 * the next (2026-12-01), so two load reports are comparable only when their reference times
 * agree; the report prints both. Our own code: no package times a core this way.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { findTaskset, pinnedCommand } from './cpu-pinning.ts'

export interface MachineSpeed {
  /** The CPUs the reference work ran on; null = wherever the OS put it. */
  cpus: string | null
  /** Median of the repetitions, ms. */
  beforeMs: number
  afterMs: number
}

const REPETITIONS = 3

/** The reference work: prints its own duration in ms, so process start-up is not counted. */
export const REFERENCE_WORK = `
const value = { a: [1, 2, 3], b: 'hello world', c: { d: 1.5, e: [{ f: 'x' }, { g: null }] } }
const started = process.hrtime.bigint()
let sink = 0
for (let i = 0; i < 200000; i++) {
  sink += JSON.parse(JSON.stringify(value)).a.length
  const map = new Map()
  for (let j = 0; j < 8; j++) map.set('k' + j, j)
  sink += map.get('k3')
}
process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6) + (sink > 0 ? '' : '!'))
`

/** Median time of the reference work on `cpus` (ms). */
export async function timeReferenceWork (cpus: string | null): Promise<number> {
  const run = promisify(execFile)
  const { command, args } = cpus !== null && findTaskset() !== null
    ? pinnedCommand(cpus, process.execPath, ['-e', REFERENCE_WORK])
    : { command: process.execPath, args: ['-e', REFERENCE_WORK] }
  const times: number[] = []
  for (let i = 0; i < REPETITIONS; i++) {
    const { stdout } = await run(command, args)
    const ms = Number(stdout)
    if (!Number.isFinite(ms)) throw new Error(`the reference work printed ${JSON.stringify(stdout)}, not a time`)
    times.push(ms)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
}

export function describeMachineSpeed ({ cpus, beforeMs, afterMs }: MachineSpeed): string {
  return `reference work ${beforeMs.toFixed(0)} ms before, ${afterMs.toFixed(0)} ms after, on ${cpus === null ? 'any CPU' : `CPU ${cpus}`} ` +
    '(the same fixed JavaScript each time: compare reports only when these agree)'
}
