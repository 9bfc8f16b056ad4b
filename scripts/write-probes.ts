/**
 * Writes sent to a quiet server after a load, to show the load left it whole: one createNote
 * must succeed at once (no connection lost, no lock left held), and a burst of as many
 * createNotes at once as the pool has connections must all succeed (the pool gives out every
 * connection it has, and none of them is left in a state that fails the next statement).
 */
import { createGraphqlClient } from '../bench/load/graphql-client.ts'
import { WRITE_QUERIES } from '../bench/load/write-planner.ts'

export interface ProbeResult {
  ok: boolean
  /** "succeeded in 4 ms", or what went wrong. */
  detail: string
}

export interface BurstWriteResult extends ProbeResult {
  /** Attempts it took, 1 = the first. */
  attempts: number
}

export const PROBE_TIMEOUT_MS = 5000
/** Least pause before a write that answered TIMEOUT is sent again (up to three times as long). */
const RETRY_PAUSE_MS = 10

/** One createNote by the owner of `token` (TIMEOUT answers retried as in probeWriteBurst). */
export async function probeWrite (url: string, token: string, { retryTimeouts = 0 } = {}): Promise<ProbeResult> {
  const [result] = await probeWriteBurst(url, [token], { retryTimeouts })
  return { ok: result.ok, detail: result.attempts === 1 ? result.detail : `${result.detail} at attempt ${result.attempts}` }
}

/**
 * One createNote per token, all sent at once. With `retryTimeouts`, a write that answers
 * TIMEOUT is sent again, up to that many more times: for a server whose budgets are a few tens
 * of ms, where ten writes at once on a busy machine can overrun them without anything being
 * wrong. Any other failure, or a write that never succeeds, fails it.
 */
export async function probeWriteBurst (url: string, tokens: readonly string[], { retryTimeouts = 0 } = {}): Promise<BurstWriteResult[]> {
  const client = createGraphqlClient({ url, connections: tokens.length, timeoutMs: PROBE_TIMEOUT_MS })
  try {
    return await Promise.all(tokens.map(async (token, index) => {
      const input = { title: `write probe ${index + 1}`, tags: ['alpha', 'beta'], visibility: 'PRIVATE' }
      for (let attempt = 1; ; attempt++) {
        const started = performance.now()
        const outcome = await client.request(WRITE_QUERIES.createNote, { input }, token)
        const ms = Math.round(performance.now() - started)
        if (outcome.ok) return { ok: true, detail: `succeeded in ${ms} ms`, attempts: attempt }
        const detail = `${outcome.errorType} after ${ms} ms (${outcome.message})`
        if (!SERVER_TIMEOUT.test(outcome.errorType) || attempt > retryTimeouts) return { ok: false, detail, attempts: attempt }
        // The first attempts are all at once (every connection taken); retries are spread out, so
        // they do not all collide again on statements a 1-ms budget cancels under contention.
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * (1 + Math.random() * 2)))
      }
    }))
  } finally {
    await client.close()
  }
}

/** The error types an answer TIMEOUT from the server is counted under (a client-side timeout is "timeout"). */
export const SERVER_TIMEOUT = /^(graphql|http \d+) TIMEOUT$/
