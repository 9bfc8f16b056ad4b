/** queryInTurn: a statement is sent only once the one before it on the same client has settled. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type pg from 'pg'
import { queryInTurn } from '../../src/changes/query-in-turn.ts'

/** A client whose queries settle when the test says so, recording when each was sent. */
function fakeClient () {
  const sent: string[] = []
  const pending: Array<{ settle: (ok: boolean) => void }> = []
  const client = {
    query (text: string) {
      sent.push(text)
      return new Promise((resolve, reject) => pending.push({ settle: (ok) => ok ? resolve({ rows: [] }) : reject(new Error(`${text} failed`)) }))
    }
  } as unknown as pg.Client
  return { client, sent, pending }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('the second statement waits for the first, even when the first fails; another client does not wait', async () => {
  const { client, sent, pending } = fakeClient()
  const other = fakeClient()
  const first = queryInTurn(client, 'select 1')
  const second = queryInTurn(client, 'select 2')
  queryInTurn(other.client, 'select 3').catch(() => {})
  await turn()
  assert.deepEqual(sent, ['select 1'], 'the second is held back')
  assert.deepEqual(other.sent, ['select 3'], 'another client has its own turn')
  pending[0].settle(false)
  await assert.rejects(first, /select 1 failed/)
  await turn()
  assert.deepEqual(sent, ['select 1', 'select 2'], 'a failure does not block the next')
  pending[1].settle(true)
  assert.deepEqual(await second, { rows: [] })
})
