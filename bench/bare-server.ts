/**
 * The yardstick for `npm run bench`: a bare node:http server that reads each request body and
 * answers with fixed JSON bytes — what Jotter itself answered for the same operation — and does
 * nothing else. The same load against it and against Jotter, in the same run, turns Jotter's
 * throughput into a ratio ("Jotter serves x % of what this machine's Node can serve at all"),
 * which survives a noisy machine far better than a bare number.
 *
 *   node --import tsx bench/bare-server.ts --bodies FILE [--port 0]
 * FILE is a JSON object { operationName: responseBodyText }; a request whose body holds
 * `query <operationName>` or `mutation <operationName>` gets that body, any other the first
 * one. Prints "listening <port>".
 */
import { readFileSync } from 'node:fs'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { repoRoot } from './bench-server.ts'
import type { RequestMix } from './load/index.ts'

export interface BareServer {
  url: string
  pid: number
  stop (): Promise<void>
}

/** Starts the bare server as its own process (like Jotter: one process, one event loop). */
export async function startBareServer (bodiesFile: string): Promise<BareServer> {
  const { child, port, exited } = await spawnListening(['--import', 'tsx', 'bench/bare-server.ts', '--bodies', bodiesFile, '--port', '0'], 'the bare server')
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    pid: child.pid!,
    async stop () {
      child.kill('SIGTERM')
      await exited
    }
  }
}

/**
 * `node <args>` in the repository (with `env` added to ours), once it has printed "listening
 * <port>"; killed, and an error, when it exits or stays silent for `timeoutMs` before that.
 */
export async function spawnListening (args: string[], name: string, { env = {}, timeoutMs = 60_000 }: { env?: Record<string, string>, timeoutMs?: number } = {}): Promise<{ child: ChildProcess, port: number, exited: Promise<void> }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let timer: NodeJS.Timeout | undefined
  const port = await new Promise<number>((resolve, reject) => {
    let output = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      const match = /listening (\d+)/.exec(output)
      if (match) resolve(Number(match[1]))
    })
    exited.then(() => reject(new Error(`${name} exited before listening: ${output}`)))
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not listen within ${timeoutMs} ms: ${output}`))
    }, timeoutMs)
  }).finally(() => clearTimeout(timer))
  return { child, port, exited }
}

/** One response body per operation of the mix, exactly as Jotter sent it. */
export async function sampleResponseBodies (url: string, mix: RequestMix): Promise<Record<string, string>> {
  const bodies: Record<string, string> = {}
  for (let attempt = 0; attempt < 1000 && Object.keys(bodies).length < mix.operationNames.length; attempt++) {
    const planned = mix.next()
    const name = mix.operationNames[planned.operationIndex]
    if (bodies[name] !== undefined) continue
    const response = await fetch(url, { method: 'POST', headers: planned.headers, body: planned.body })
    bodies[name] = await response.text()
  }
  return bodies
}

// Private:

function serve (bodies: Record<string, string>, port: number): void {
  const entries = Object.entries(bodies).flatMap(([name, body]) => [`query ${name}`, `mutation ${name}`].map((marker) => ({ marker, body: Buffer.from(body) })))
  if (entries.length === 0) throw new Error('--bodies must name at least one operation')
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const body = (entries.find((entry) => text.includes(entry.marker)) ?? entries[0]).body
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length })
      response.end(body)
    })
  })
  server.keepAliveTimeout = 72_000 // like Fastify's default, so idle pool connections are not cut
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`))
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0))
    server.closeAllConnections() // idle keep-alive connections would hold close() open
  })
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { values } = parseArgs({ options: { bodies: { type: 'string' }, port: { type: 'string', default: '0' } } })
  if (values.bodies === undefined) {
    process.stderr.write('bare-server: --bodies FILE is required\n')
    process.exit(2)
  }
  serve(JSON.parse(readFileSync(values.bodies, 'utf8')) as Record<string, string>, Number(values.port))
}
