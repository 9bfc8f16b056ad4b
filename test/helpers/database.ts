/**
 * A fresh database per test file on the server at TEST_DATABASE_URL (set by `npm test`),
 * migrated, and dropped by `drop()` (tools/throwaway-database.ts).
 */
import { withOwnConnection } from '../../src/db/connect.ts'
import { openThrowawayDatabase, type OpenedThrowawayDatabase } from '../../tools/throwaway-database.ts'

export type TestDatabase = OpenedThrowawayDatabase

export function testServerUrl (): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test` (it starts an embedded PostgreSQL)')
  return url
}

export function createTestDatabase ({ poolMax = 10, dbTimeoutMs = 20_000 } = {}): Promise<TestDatabase> {
  return openThrowawayDatabase({ serverUrl: testServerUrl(), namePrefix: 'jotter_test', poolMax, dbTimeoutMs })
}

/** Runs one trusted statement on its own connection to `url` (tests' admin work). */
export function runAsAdmin (url: string, text: string, values: unknown[] = []): Promise<Array<Record<string, any>>> {
  return withOwnConnection(url, async (admin) => (await admin.query(text, values)).rows)
}
