/**
 * HAProxy on the topology's public port: round robin over the instances, each checked on
 * /health/ready (an instance that is closing or has lost its database answers 503 and leaves
 * the rotation), connection failures retried on another instance (the request never reached
 * the dead one, so this is safe for mutations too), and a runtime socket for draining.
 */
import { writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { requireBinary } from './binaries.ts'
import { startManagedProcess, type ManagedProcess, type PartHooks } from './managed-process.ts'

export interface HaproxySettings {
  port: number
  servers: ReadonlyArray<{ name: string, port: number }>
  /** HTTP_TIMEOUT_MS: the server timeout sits above it, so Jotter's own timeout answers first. */
  httpTimeoutMs: number
  /** How long a soft stop may wait for requests in flight (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs: number
  runDir: string
}

export interface ServerStats {
  name: string
  /** UP, DOWN, DRAIN, MAINT, "UP 1/2" (going down), "DOWN 1/2" (coming up)… */
  status: string
  /** Requests on it now, and the most it ever had at once. */
  current: number
  max: number
  total: number
  /** Failed connections, failed responses (the server died mid-request), retries, redispatches. */
  connectionErrors: number
  responseErrors: number
  retries: number
  redispatches: number
}

export interface HaproxyPart {
  name: 'haproxy'
  port: number
  pid: number
  process: ManagedProcess
  /** The instances as HAProxy sees them. */
  serverStats (): Promise<ServerStats[]>
  /** Runtime API: `drain` takes no new requests, `ready` takes them again, `maint` none at all. */
  setServerState (server: string, state: 'ready' | 'drain' | 'maint'): Promise<void>
  /** SIGUSR1: soft stop (stop listening, finish what is in flight), SIGKILL after the grace. */
  stop (): Promise<void>
}

const CONNECT_TIMEOUT_MS = 1000
const TIMEOUT_MARGIN_MS = 5000

export const backendName = 'jotter_instances'

export function haproxyConfig (settings: HaproxySettings): string {
  const seconds = (ms: number): string => `${Math.ceil(ms / 1000)}s`
  return [
    'global',
    '  maxconn 4096',
    `  stats socket ${join(settings.runDir, 'haproxy.sock')} mode 600 level admin`,
    `  hard-stop-after ${seconds(settings.shutdownGraceMs + TIMEOUT_MARGIN_MS)}`,
    '',
    'defaults',
    '  mode http',
    `  timeout connect ${CONNECT_TIMEOUT_MS}ms`,
    `  timeout client ${seconds(settings.httpTimeoutMs + TIMEOUT_MARGIN_MS)}`,
    `  timeout server ${seconds(settings.httpTimeoutMs + TIMEOUT_MARGIN_MS)}`,
    '  timeout http-keep-alive 10s',
    '  timeout check 1s',
    // Only a failed connection is retried, and on another instance: the request never arrived.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure',
    // Jotter counts sign-in failures by client address: with TRUST_PROXY=1 it reads this header.
    '  option forwardfor',
    '',
    'frontend jotter',
    `  bind 127.0.0.1:${settings.port}`,
    `  default_backend ${backendName}`,
    '',
    `backend ${backendName}`,
    '  balance roundrobin',
    '  option httpchk',
    '  http-check send meth GET uri /health/ready',
    '  http-check expect status 200',
    // Out of the rotation after two failed checks (about a second), back after two good ones.
    '  default-server check inter 500ms fall 2 rise 2',
    ...settings.servers.map((server) => `  server ${server.name} 127.0.0.1:${server.port}`),
    ''
  ].join('\n')
}

export async function startHaproxy (settings: HaproxySettings, { log, watch }: PartHooks): Promise<HaproxyPart> {
  const binary = requireBinary('haproxy')
  const configFile = join(settings.runDir, 'haproxy.cfg')
  await writeFile(configFile, haproxyConfig(settings))
  const check = spawnSync(binary, ['-c', '-q', '-f', configFile], { encoding: 'utf8' })
  if (check.status !== 0) throw new Error(`haproxy refused its configuration ${configFile}:\n${check.stderr}${check.stdout}`)
  // -db: stay in the foreground, so the pid is HAProxy's and its signals reach it.
  const started = startManagedProcess({ name: 'haproxy', command: binary, args: ['-db', '-f', configFile], onOutput: (line) => log(`haproxy: ${line}`) })
  watch?.(started)
  const socketPath = join(settings.runDir, 'haproxy.sock')
  return {
    name: 'haproxy',
    port: settings.port,
    pid: started.pid,
    process: started,
    async serverStats () {
      return parseServerStats(await runtimeCommand(socketPath, 'show stat'))
    },
    async setServerState (server, state) {
      const answer = await runtimeCommand(socketPath, `set server ${backendName}/${server} state ${state}`)
      if (answer.trim() !== '') throw new Error(`haproxy: set server ${server} state ${state}: ${answer.trim()}`)
    },
    async stop () {
      await started.stop({ signal: 'SIGUSR1', timeoutMs: settings.shutdownGraceMs + TIMEOUT_MARGIN_MS })
    }
  }
}

/** The backend's server rows of `show stat` (CSV with a "# " header). */
export function parseServerStats (csv: string): ServerStats[] {
  const [header, ...rows] = csv.trim().split('\n')
  const columns = header.replace(/^# /, '').split(',')
  const at = (row: string[], column: string): string => row[columns.indexOf(column)] ?? ''
  const count = (row: string[], column: string): number => Number(at(row, column) || 0)
  return rows.map((line) => line.split(','))
    .filter((row) => at(row, 'pxname') === backendName && !['BACKEND', 'FRONTEND'].includes(at(row, 'svname')))
    .map((row) => ({
      name: at(row, 'svname'),
      status: at(row, 'status'),
      current: count(row, 'scur'),
      max: count(row, 'smax'),
      total: count(row, 'stot'),
      connectionErrors: count(row, 'econ'),
      responseErrors: count(row, 'eresp'),
      retries: count(row, 'wretr'),
      redispatches: count(row, 'wredis')
    }))
}

// Private:

function runtimeCommand (socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.once('error', reject)
    socket.once('end', () => resolve(answer))
    socket.once('connect', () => socket.write(`${command}\n`))
  })
}
