/** Waiting for a part to answer: a TCP port that accepts, or an HTTP URL that answers 200. */
import { connect } from 'node:net'
import type { ManagedProcess } from './managed-process.ts'

const POLL_INTERVAL_MS = 100

/** Resolves once 127.0.0.1:port accepts a connection; rejects if `process` exits or time runs out. */
export function waitForPort (port: number, process: ManagedProcess | null, timeoutMs: number): Promise<void> {
  return poll(`port ${port}`, () => portAccepts(port), process, timeoutMs)
}

/** Resolves once `url` answers 200; rejects if `process` exits or time runs out. */
export function waitForHttpOk (url: string, process: ManagedProcess | null, timeoutMs: number): Promise<void> {
  return poll(url, () => answersOk(url), process, timeoutMs)
}

export async function answersOk (url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
    await response.arrayBuffer()
    return response.status === 200
  } catch {
    return false
  }
}

export function portAccepts (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

// Private:

async function poll (what: string, check: () => Promise<boolean>, process: ManagedProcess | null, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (process !== null && !process.running()) {
      const status = await process.exited
      throw new Error(`${process.name} exited (${status.signal ?? `code ${status.code}`}) before ${what} answered:\n${process.recentOutput()}`)
    }
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
  }
  const output = process === null ? '' : `\nlast output of ${process.name}:\n${process.recentOutput()}`
  throw new Error(`${what} did not answer within ${timeoutMs} ms${output}`)
}
