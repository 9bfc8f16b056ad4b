/**
 * A fresh database per test file on the server at TEST_DATABASE_URL (set by `npm test`),
 * migrated, and dropped by `drop()`.
 */
import { randomBytes } from 'node:crypto'
import { configWith } from '../../src/config.ts'
import { createPool, dropDatabase, ensureDatabase, openPool, withOwnConnection, type OpenedDatabase } from '../../src/db/connect.ts'
import { migrate } from '../../src/db/migrate.ts'

export interface TestDatabase extends OpenedDatabase {
  name: string
  /** Closes the pool and drops the database. */
  drop (): Promise<void>
}

export function testServerUrl (): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test` (it starts an embedded PostgreSQL)')
  return url
}

export async function createTestDatabase ({ poolMax = 10, dbTimeoutMs = 20_000 } = {}): Promise<TestDatabase> {
  const serverUrl = testServerUrl()
  const name = `jotter_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const url = await ensureDatabase(serverUrl, name)
  const config = configWith({ dbPoolMax: poolMax, dbTimeoutMs })
  const pool = createPool(url, config)
  await migrate(pool)
  const db = openPool(pool, config)
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await db.close()
  }
  return {
    name,
    url,
    db,
    close,
    async drop () {
      await close()
      await dropDatabase(serverUrl, name)
    }
  }
}

/** Runs one trusted statement on its own connection to `url` (tests' admin work). */
export function runAsAdmin (url: string, text: string, values: unknown[] = []): Promise<Array<Record<string, any>>> {
  return withOwnConnection(url, async (admin) => (await admin.query(text, values)).rows)
}
