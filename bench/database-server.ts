/**
 * The PostgreSQL server a benchmark creates its database on: TEST_DATABASE_URL's or
 * DATABASE_URL's, or, with neither set, a throwaway embedded one, stopped and removed by `stop()`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '../src/db/embedded.ts'
import { freePort } from '../tools/free-port.ts'

export interface BenchDatabaseServer {
  url: string
  stop (): Promise<void>
}

export async function benchDatabaseServer (benchName: string): Promise<BenchDatabaseServer> {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL
  if (url) return { url, stop: async () => {} }
  const dataDir = await mkdtemp(join(tmpdir(), 'jotter-bench-pg-'))
  process.stdout.write(`${benchName}: no TEST_DATABASE_URL or DATABASE_URL: starting a throwaway embedded PostgreSQL\n`)
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort() })
  return { url: server.url, stop: async () => { await server.stop(); await rm(dataDir, { recursive: true, force: true }) } }
}
