/**
 * One part of the topology running as a child process: started in its own process group (so a
 * Ctrl-C in the terminal reaches the orchestrator alone, which then stops the parts in order),
 * its output passed on line by line, and stopped with a chosen signal, then SIGKILL when it
 * outlives the timeout. If the orchestrator itself dies, every part still running is killed.
 */
import { spawn } from 'node:child_process'

export interface ManagedProcessOptions {
  /** Shown in logs: "pgbouncer", "instance 2". */
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Each line of stdout and stderr; the last lines are also kept for error messages. */
  onOutput?: (line: string) => void
}

export interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ManagedProcess {
  name: string
  pid: number
  /** Resolves when the process has exited, for whatever reason. */
  exited: Promise<ExitStatus>
  running (): boolean
  /** The last lines of its output, for an error message. */
  recentOutput (): string
  /** Sends `signal` (default SIGTERM), waits up to timeoutMs, then SIGKILLs its process group. */
  stop (options?: { signal?: NodeJS.Signals, timeoutMs?: number }): Promise<ExitStatus>
  /** Sends a signal without waiting (a fault test's SIGKILL). */
  signal (signal: NodeJS.Signals): void
}

/** How a part reports: its log lines, and every process it starts (a restart starts a new one). */
export interface PartHooks {
  log: (line: string) => void
  watch?: (process: ManagedProcess) => void
}

const KEPT_LINES = 30
const DEFAULT_STOP_TIMEOUT_MS = 10_000

export function startManagedProcess (options: ManagedProcessOptions): ManagedProcess {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    // A program that cannot be executed at all emits 'error' and never 'exit'.
    child.once('error', (error) => {
      lines.push(String(error))
      resolve({ code: 127, signal: null })
    })
  })
  let alive = child.pid !== undefined
  // `exited` never rejects.
  exited.then(() => {
    alive = false
    running.delete(killGroup)
  })
  for (const stream of [child.stdout, child.stderr]) {
    let partial = ''
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const complete = (partial + chunk).split('\n')
      partial = complete.pop()!
      for (const line of complete) {
        lines.push(line)
        if (lines.length > KEPT_LINES) lines.shift()
        options.onOutput?.(line)
      }
    })
  }
  const pid = child.pid ?? -1
  const killGroup = (): void => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch { /* gone already */ }
  }
  if (alive) running.add(killGroup)
  ensureExitHook()

  let stopping: Promise<ExitStatus> | undefined
  return {
    name: options.name,
    pid,
    exited,
    running: () => alive,
    recentOutput: () => lines.join('\n'),
    signal (signal) {
      if (alive) child.kill(signal)
    },
    stop ({ signal = 'SIGTERM', timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
      stopping ??= (async () => {
        if (alive) child.kill(signal)
        const timer = setTimeout(killGroup, timeoutMs)
        const status = await exited
        clearTimeout(timer)
        // Anything it forked and left behind in its group goes with it.
        killGroup()
        return status
      })()
      return stopping
    }
  }
}

// Private:

const running = new Set<() => void>()
let exitHookInstalled = false

function ensureExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => { for (const kill of running) kill() })
}
