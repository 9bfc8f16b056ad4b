/**
 * A fresh database per test file on the server at TEST_DATABASE_URL (set by `npm test`),
 * migrated, and dropped by `drop()`.
 */
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { configWith } from '../../src/config.ts'
import { createPool, ensureDatabase, type OpenedDatabase } from '../../src/db/connect.ts'
import { createDatabase } from '../../src/db/gateway.ts'
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
  const sql = createPool(url, configWith({ dbPoolMax: poolMax, dbTimeoutMs }))
  await migrate(sql)
  const db = createDatabase(sql)
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
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
      try {
        await admin.unsafe(`drop database if exists "${name}" with (force)`)
      } finally {
        await admin.end({ timeout: 1 })
      }
    }
  }
}
