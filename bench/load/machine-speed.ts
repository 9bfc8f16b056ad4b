/**
 * How fast the server's CPU is right now: two fixed pieces of work timed in a fresh Node process
 * on the server's CPUs while the server is idle, before the load and after it.
 *  - The reference work: JSON and Map work, no I/O. On a shared machine it took 873 to 1,506 ms
 *    from one minute to the next (2026-12-01).
 *  - The loopback work: 10,000 one-byte round trips over a TCP connection to itself on
 *    127.0.0.1 — system calls and the kernel's loopback path, which is most of what a server
 *    does besides JavaScript. The first alone can mislead: under a paravirtualized kernel every
 *    system call and interrupt can cost several times more while JavaScript runs as fast as
 *    ever (docs/performance.md, "Reading a figure from this machine").
 * Two load reports are comparable only when both pairs of times agree; the report prints them.
 * Our own code: no package times a core this way.
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
  /** The loopback work's medians (ms); absent in reports from before it existed. */
  loopbackBeforeMs?: number
  loopbackAfterMs?: number
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

/** The loopback work: prints its own duration in ms, listening and connecting not counted. */
export const LOOPBACK_WORK = `
const net = require('node:net')
let left = 10000
const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  socket.on('data', (chunk) => socket.write(chunk))
})
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    client.setNoDelay(true)
    const started = process.hrtime.bigint()
    client.on('data', () => {
      if (--left > 0) return void client.write('x')
      process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6))
      process.exit(0)
    })
    client.write('x')
  })
})
`

/** Median time of the reference work on `cpus` (ms). */
export function timeReferenceWork (cpus: string | null): Promise<number> {
  return timeWork(REFERENCE_WORK, cpus)
}

/** Median time of the loopback work on `cpus` (ms). */
export function timeLoopbackWork (cpus: string | null): Promise<number> {
  return timeWork(LOOPBACK_WORK, cpus)
}

export function describeMachineSpeed ({ cpus, beforeMs, afterMs, loopbackBeforeMs, loopbackAfterMs }: MachineSpeed): string {
  const loopback = loopbackBeforeMs === undefined || loopbackAfterMs === undefined
    ? ''
    : `; loopback work ${loopbackBeforeMs.toFixed(0)} ms before, ${loopbackAfterMs.toFixed(0)} ms after`
  return `reference work ${beforeMs.toFixed(0)} ms before, ${afterMs.toFixed(0)} ms after${loopback}, on ${cpus === null ? 'any CPU' : `CPU ${cpus}`} ` +
    '(the same fixed work each time: compare reports only when these agree)'
}

// Private:

async function timeWork (work: string, cpus: string | null): Promise<number> {
  const run = promisify(execFile)
  const { command, args } = cpus !== null && findTaskset() !== null
    ? pinnedCommand(cpus, process.execPath, ['-e', work])
    : { command: process.execPath, args: ['-e', work] }
  const times: number[] = []
  for (let i = 0; i < REPETITIONS; i++) {
    const { stdout } = await run(command, args)
    const ms = Number(stdout)
    if (!Number.isFinite(ms)) throw new Error(`the work printed ${JSON.stringify(stdout)}, not a time`)
    times.push(ms)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
}
