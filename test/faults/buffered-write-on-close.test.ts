/**
 * A pooled connection reset while statements are being handed to it must come back: the next
 * statement on that pool slot reconnects at once instead of hanging or waiting out its budget.
 *
 * A reset socket usually reports its error in the event loop's poll phase and its 'close' in
 * the close phase of the same iteration, after the check phase. Handing the driver a statement
 * in every check phase therefore puts one between the error and the close. postgres.js 3.4.9
 * kept state from the dead socket there and hung that slot for good in nearly every run (all
 * on PostgreSQL 18, most on 15; docs/database-driver.md); node-postgres must pass it as is.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { configWith } from '../../src/config.ts'
import { createPool, openPool } from '../../src/db/connect.ts'
import type { Database } from '../../src/db/gateway.ts'
import { createDeadline } from '../../src/deadline/deadline.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts'

let database: TestDatabase
let proxy: TcpProxy
let db: Database

before(async () => {
  database = await createTestDatabase()
  const target = new URL(database.url)
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(database.url)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)
  // The app's pool with one connection, so every statement goes to the slot under test; a
  // statement_timeout below the read's budget keeps that read one plain statement.
  const config = configWith({ dbPoolMax: 1, dbTimeoutMs: 1000 })
  db = openPool(createPool(viaProxy.toString(), config), config)
})
after(async () => {
  await db.close()
  await proxy.close()
  await database.drop()
})

test('a connection reset while statements are handed to it: the next statement reconnects at once', async () => {
  await db.sql`select 1`
  let lost = 0
  let answeredAfterLoss = false
  const giveUpAt = performance.now() + 2000
  // One statement per check phase until one is answered on the reconnected slot (or time is up).
  const dispatchInCheckPhase = (): void => {
    if (answeredAfterLoss || performance.now() > giveUpAt) return
    const lostBefore = lost
    db.sql`select 1`.then(() => { if (lostBefore > 0) answeredAfterLoss = true }, () => { lost++ })
    setImmediate(dispatchInCheckPhase)
  }
  setImmediate(dispatchInCheckPhase)
  await new Promise((resolve) => setTimeout(resolve, 20))
  proxy.reset()
  // answeredAfterLoss is set by the statements' callbacks while this loop waits.
  // eslint-disable-next-line no-unmodified-loop-condition
  while (!answeredAfterLoss && performance.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.ok(lost > 0, 'statements in flight failed with the connection')

  // Answered within the read's 1500 ms budget: a hung slot would have waited it out and failed TIMEOUT.
  const rows = await db.read({ deadline: createDeadline(1500), sqlCounter: { statements: 0 } }, 'afterReset', (sql) => sql`select 2 as two`)
  assert.deepEqual([...rows], [{ two: 2 }])
})
