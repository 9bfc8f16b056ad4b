/**
 * The floor under Jotter's allocation per cache hit: what a bare node:http server and a bare
 * Fastify 5 route allocate per request when they answer a hit's request with the hit's stored
 * bytes and headers, and do nothing else. Measured exactly as Jotter is (bench/allocation.ts:
 * the same closed loop, the same jotter_heap_allocated_bytes_total counter from
 * src/observability/heap-allocation-metrics.ts, in a process of its own started with
 * `npm start`'s node flags), so the three figures can be subtracted from one another: what a
 * hit costs beyond bare Fastify is ours to cut; what bare Fastify costs is the stack's.
 *
 * Both floors read the whole request body and parse it as JSON (Fastify's default parser does;
 * the bare server does it by hand), since no server can answer a GraphQL POST without that.
 *
 *   node --import tsx bench/allocation-floor.ts --kind node|fastify --response FILE [--port 0]
 * FILE is JSON { body, headers }: the stored bytes and the headers to answer every
 * POST /graphql with. GET /metrics serves the counter. Prints "listening <port>".
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { registerHeapAllocationMetrics } from '../src/observability/heap-allocation-metrics.ts'
import { createMetricsRegistry } from '../src/observability/metrics.ts'
import { measureAllocation, type AllocationPath, type AllocationResult } from './allocation.ts'
import { spawnListening } from './bare-server.ts'
import { productionNodeArgs } from './bench-server.ts'

export type FloorKind = 'node' | 'fastify'

export const floorKinds: readonly FloorKind[] = Object.freeze(['node', 'fastify'])

/** A response to answer with: a Jotter hit's body and the headers it was sent with. */
export interface StoredAnswer {
  body: string
  headers: Record<string, string>
}

/**
 * The response headers a floor server repeats from a Jotter answer: what the client sees of
 * the cache (type, ETag, Vary, Cache-Control, the request id); not those the HTTP layer writes
 * itself (date, connection, keep-alive, content-length).
 */
export function answerHeaders (headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (!HTTP_LAYER_HEADERS.has(name)) kept[name] = value
  })
  return kept
}

/** Bytes per request of each floor server answering `path`'s requests with `answer`. */
export async function measureAllocationFloor (kind: FloorKind, path: AllocationPath, answer: StoredAnswer): Promise<AllocationResult> {
  const file = join(tmpdir(), `jotter-floor-${process.pid}-${kind}.json`)
  writeFileSync(file, JSON.stringify(answer))
  const server = await startFloorServer(kind, file)
  try {
    return await measureAllocation({ ...path, name: `bare ${kind === 'node' ? 'node:http' : 'Fastify 5'} answering ${path.name}` }, { url: server.url, metricsUrl: server.metricsUrl })
  } finally {
    await server.stop()
    rmSync(file, { force: true })
  }
}

// Private:

const HTTP_LAYER_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

interface FloorServer {
  url: string
  metricsUrl: string
  stop (): Promise<void>
}

async function startFloorServer (kind: FloorKind, responseFile: string): Promise<FloorServer> {
  const { child, port, exited } = await spawnListening([...productionNodeArgs(), '--import', 'tsx', 'bench/allocation-floor.ts', '--kind', kind, '--response', responseFile, '--port', '0'], `the ${kind} floor server`)
  const origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}/graphql`,
    metricsUrl: `${origin}/metrics`,
    async stop () {
      child.kill('SIGTERM')
      await exited
    }
  }
}

async function serve (kind: FloorKind, answer: StoredAnswer, port: number): Promise<void> {
  const registry = createMetricsRegistry()
  registerHeapAllocationMetrics(registry)
  const body = Buffer.from(answer.body)
  const headers = { ...answer.headers, 'content-length': String(body.length) }
  if (kind === 'fastify') {
    const app = Fastify()
    const names = Object.keys(answer.headers)
    app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
    app.post('/graphql', (_request, reply) => {
      // One header at a time, as Jotter sets them (reply.headers() would make a key array per request).
      for (let i = 0; i < names.length; i++) reply.header(names[i], answer.headers[names[i]])
      reply.send(body)
    })
    await app.listen({ port, host: '127.0.0.1' })
    process.stdout.write(`listening ${(app.server.address() as AddressInfo).port}\n`)
    process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
    return
  }
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      registry.metrics().then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text))
      return
    }
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => { text += chunk })
    request.on('end', () => {
      JSON.parse(text)
      response.writeHead(200, headers).end(body)
    })
  })
  server.keepAliveTimeout = 72_000 // Fastify's default, so idle pool connections are not cut
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`))
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0))
    server.closeAllConnections() // idle keep-alive connections would hold close() open
  })
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { values } = parseArgs({ options: { kind: { type: 'string' }, response: { type: 'string' }, port: { type: 'string', default: '0' } } })
  if (!floorKinds.includes(values.kind as FloorKind) || values.response === undefined) {
    process.stderr.write('allocation-floor: --kind node|fastify and --response FILE are required\n')
    process.exit(2)
  }
  await serve(values.kind as FloorKind, JSON.parse(readFileSync(values.response, 'utf8')) as StoredAnswer, Number(values.port))
}
