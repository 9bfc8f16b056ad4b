/**
 * One data set for every target of `npm run bench:compare`: an empty throwaway database, a
 * Jotter on it (which runs the migrations) seeded through its API like clients write, then
 * copied for each target with `create database … template …`. Every target starts from the
 * same rows with the same ids, so the tokens and ids collected once are valid everywhere, and
 * what one target's writes did never reaches the next.
 */
import pg from 'pg'
import { startJotterProcess } from '../bench-server.ts'
import { dropDatabase, quoteIdentifier, withOwnConnection } from '../../src/db/connect.ts'
import { createThrowawayDatabase } from '../../tools/throwaway-database.ts'
import { pinPostgres } from '../load/cpu-pinning.ts'
import { describeSeedFailures, seedThroughApi } from '../../scripts/seed-through-api.ts'
import type { Fixtures } from '../load/request-mix.ts'
import { parentOf, postgresServerCpu, type CpuReader } from './process-cpu.ts'

export interface SeededTemplate {
  fixtures: Fixtures
  seed: { users: number, notes: number, seconds: number }
  /** The CPU of the PostgreSQL server holding the copies; null when its postmaster is not ours to see. */
  postgresCpu: CpuReader | null
  /** A fresh copy of the seeded database; its `drop` ends its sessions. */
  copy (label: string): Promise<DatabaseCopy>
  /** Drops every copy still there and the template (and stops an embedded PostgreSQL). */
  drop (): Promise<void>
}

export interface DatabaseCopy {
  url: string
  name: string
  drop (): Promise<void>
}

export interface SeededTemplateOptions {
  /** A PostgreSQL server to work on; unset = an embedded one in a temporary directory. */
  databaseUrl?: string
  /** Pin an embedded PostgreSQL and the seeding Jotter to these CPUs. */
  cpus?: string
  users: number
  notesPerUser: number
  seedConcurrency: number
  log: (line: string) => void
}

export async function createSeededTemplate (options: SeededTemplateOptions): Promise<SeededTemplate> {
  const { log } = options
  const template = await createThrowawayDatabase({ serverUrl: options.databaseUrl, namePrefix: 'jotter_compare', log })
  const adminUrl = urlOfDatabase(template.url, 'postgres')
  const copies = new Set<string>()
  const drop = async (): Promise<void> => {
    try {
      for (const name of copies) await dropDatabase(adminUrl, name)
    } finally {
      await template.drop()
    }
  }
  try {
    if (options.cpus !== undefined) {
      if (template.postmasterPid === null) log('PostgreSQL is external: not pinned')
      else await pinPostgres(template.postmasterPid, options.cpus)
    }
    const seeded = await seedThroughJotter(template.url, options)
    // Statistics before copying (a copy takes them along): without them the planner guesses,
    // and each copy would get them whenever autovacuum came round, in the middle of a pass.
    const postmasterPid = await withOwnConnection(template.url, async (client) => {
      await client.query('analyze')
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
      return parentOf(rows[0].pid)
    })
    return {
      ...seeded,
      postgresCpu: postmasterPid === null ? null : postgresServerCpu(postmasterPid),
      async copy (label) {
        const name = `${template.name}_${label.replace(/[^a-z0-9]/g, '_')}`
        await copyDatabase(adminUrl, template.name, name)
        copies.add(name)
        return {
          url: urlOfDatabase(template.url, name),
          name,
          async drop () {
            await dropDatabase(adminUrl, name)
            copies.delete(name)
          }
        }
      },
      drop
    }
  } catch (error) {
    await drop()
    throw error
  }
}

// Private:

async function seedThroughJotter (url: string, options: SeededTemplateOptions): Promise<Pick<SeededTemplate, 'fixtures' | 'seed'>> {
  const server = await startJotterProcess({ databaseUrl: url, cpus: options.cpus })
  try {
    options.log(`seeding ${options.users} users × ${options.notesPerUser} notes through Jotter's API, ${options.seedConcurrency} at once`)
    const { users, failures, createdNotes, seconds } = await seedThroughApi({ url: server.url, users: options.users, notesPerUser: options.notesPerUser, concurrency: options.seedConcurrency })
    if (failures.total > 0) throw new Error(`seeding through the API: ${describeSeedFailures(failures)}`)
    const publicNoteIds = users.flatMap((user) => (user.ownNotes ?? []).filter((note) => note.visibility === 'PUBLIC').map((note) => note.id))
    const allNoteIds = users.flatMap((user) => (user.ownNotes ?? []).map((note) => note.id))
    return {
      // noteDetail asks for public notes (what any viewer can open), as the load test's fixtures do.
      fixtures: { users, userIds: users.map((user) => user.id), noteIds: publicNoteIds.length > 0 ? publicNoteIds : allNoteIds },
      seed: { users: users.length, notes: createdNotes, seconds }
    }
  } finally {
    await server.stop()
  }
}

/**
 * `create database … template …` needs the template to have no sessions; a server that has just
 * exited may leave its backends a moment longer, so "in use" (55006) is retried for up to 10 s.
 */
async function copyDatabase (adminUrl: string, templateName: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withOwnConnection(adminUrl, (admin) => admin.query(`create database ${quoteIdentifier(name)} template ${quoteIdentifier(templateName)}`))
      return
    } catch (error) {
      if ((error as pg.DatabaseError).code !== '55006' || attempt >= 40) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

function urlOfDatabase (url: string, name: string): string {
  const target = new URL(url)
  target.pathname = `/${name}`
  return target.toString()
}
