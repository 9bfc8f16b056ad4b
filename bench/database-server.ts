/**
 * The database a benchmark runs on: a fresh, migrated one on TEST_DATABASE_URL's or
 * DATABASE_URL's server, or, with neither set, on a throwaway embedded PostgreSQL; `drop()`
 * removes all of it (tools/throwaway-database.ts).
 */
import { openThrowawayDatabase, type OpenedThrowawayDatabase } from '../tools/throwaway-database.ts'

export function openBenchDatabase (benchName: string, { poolMax = 10 } = {}): Promise<OpenedThrowawayDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined
  if (serverUrl === undefined) process.stdout.write(`${benchName}: no TEST_DATABASE_URL or DATABASE_URL: starting a throwaway embedded PostgreSQL\n`)
  return openThrowawayDatabase({ serverUrl, namePrefix: 'jotter_bench', poolMax, log: (line) => process.stdout.write(`${benchName}: ${line}\n`) })
}
