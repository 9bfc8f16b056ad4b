/**
 * Writes sent to a quiet server after a load, to show the load left it whole: one createNote
 * must succeed at once (no connection lost, no lock left held), and a burst of as many
 * createNotes at once as the pool has connections must all be answered (the pool gives out
 * every connection it has, and none of them is left in a state that fails the next statement).
 */
import { createGraphqlClient } from '../bench/load/graphql-client.ts'
import { WRITE_QUERIES } from '../bench/load/write-planner.ts'

export interface ProbeResult {
  ok: boolean
  /** "succeeded in 4 ms", or what went wrong. */
  detail: string
}

export interface BurstWriteResult extends ProbeResult {
  /** The server answered TIMEOUT: its budget ran out (not ok, but not a broken server either). */
  timedOut: boolean
}

export const PROBE_TIMEOUT_MS = 5000

/** One createNote by the owner of `token`. */
export async function probeWrite (url: string, token: string): Promise<ProbeResult> {
  const [result] = await probeWriteBurst(url, [token])
  return { ok: result.ok, detail: result.detail }
}

/**
 * One createNote per token, all sent at once, each once. A caller whose server runs under
 * budgets too small for a write decides what a TIMEOUT answer means (`timedOut`).
 */
export async function probeWriteBurst (url: string, tokens: readonly string[]): Promise<BurstWriteResult[]> {
  const client = createGraphqlClient({ url, connections: tokens.length, timeoutMs: PROBE_TIMEOUT_MS })
  try {
    return await Promise.all(tokens.map(async (token, index) => {
      const input = { title: `write probe ${index + 1}`, tags: ['alpha', 'beta'], visibility: 'PRIVATE' }
      const started = performance.now()
      const outcome = await client.request(WRITE_QUERIES.createNote, { input }, token)
      const ms = Math.round(performance.now() - started)
      if (outcome.ok) return { ok: true, timedOut: false, detail: `succeeded in ${ms} ms` }
      return { ok: false, timedOut: SERVER_TIMEOUT.test(outcome.errorType), detail: `${outcome.errorType} after ${ms} ms (${outcome.message})` }
    }))
  } finally {
    await client.close()
  }
}

/** The error types an answer TIMEOUT from the server is counted under (a client-side timeout is "timeout"). */
export const SERVER_TIMEOUT = /^(graphql|http \d+) TIMEOUT$/
