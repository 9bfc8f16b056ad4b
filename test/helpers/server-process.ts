/**
 * Real server processes (`src/server.ts`) for tests that need more than one process: started
 * on a free port against a test database, ready when every worker answers and every worker's
 * invalidation bus listens, stopped (and awaited) by `stop`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { freePort } from '../../tools/free-port.ts'
import { TEST_JWT_SECRET } from './app.ts'
import { metricSum } from './metrics.ts'

export interface ServerProcess {
  url: string
  child: ChildProcess
  workers: number
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop (): Promise<void>
}

export async function startServer (databaseUrl: string, { workers = 1, env = {} }: { workers?: number, env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'false',
      WORKERS: String(workers),
      REDIS_URL: '',
      EXPOSE_SQL_COUNT: 'true',
      ...env
    },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const server: ServerProcess = {
    url,
    child,
    workers,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
  try {
    await waitUntil(async () => {
      const metrics = await freshRequest(url, 'GET', '/metrics')
      if (busListeningOf(metrics) !== workers) return false
      // The bus may listen before the migrations are done (the start-up gate then answers 503):
      // ready too: every worker's pid, on new connections (the cluster hands them out in turn).
      const ready = new Set<number>()
      for (let attempt = 0; attempt < workers * 4 && ready.size < workers; attempt++) {
        ready.add((JSON.parse(await freshRequest(url, 'GET', '/health/ready')) as { pid: number }).pid)
      }
      return ready.size === workers
    }, 60_000, `${workers} worker(s) on ${url} ready and listening for invalidations`)
  } catch (error) {
    await server.stop()
    throw error
  }
  return server
}

/** The number of this server's processes whose invalidation bus listens (summed over workers). */
export function busListeningOf (metricsText: string): number {
  return metricSum(metricsText, 'jotter_cache_bus_listening')
}

/** One request on a new connection: the cluster hands connections to its workers in turn. */
export function freshRequest (baseUrl: string, method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}${path}`, { method, agent: false, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => response.statusCode === 200 ? resolve(text) : reject(new Error(`${path}: ${response.statusCode} ${text.slice(0, 200)}`)))
    })
    request.on('error', reject)
    request.end(body)
  })
}

/** A GraphQL request on a fresh connection; throws on GraphQL errors. */
export async function gqlFresh (baseUrl: string, query: string, { token, variables, headers = {} }: { token?: string, variables?: Record<string, unknown>, headers?: Record<string, string> } = {}): Promise<any> {
  const text = await freshRequest(baseUrl, 'POST', '/graphql', JSON.stringify({ query, variables }), { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers })
  const body = JSON.parse(text) as { errors?: unknown }
  if (body.errors !== undefined) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`)
  return body
}

/** Polls `check` until it holds, for `timeoutMs`; it is asked once more at the end, so one pause of this process cannot fail the wait. */
export async function waitUntil (check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 25): Promise<number> {
  const started = performance.now()
  const holds = async (): Promise<boolean> => { try { return await check() } catch { return false } }
  while (performance.now() - started < timeoutMs) {
    if (await holds()) return performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  if (await holds()) return performance.now() - started
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
