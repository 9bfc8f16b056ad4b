/**
 * Cache warming (CACHE_WARM_FILE): a JSON list of `{ query, variables?, operationName? }` run
 * in the anonymous scope once the app is ready, and again shortly after any invalidation (a
 * still-cached one is a cheap hit), so the commonest public responses are hits from the first
 * request — for every viewer whose answers they do not depend on, signed in or not. The runs go through `app.inject`: the exact path a client takes, cache included.
 */
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'

export interface WarmOperation {
  query: string
  variables?: Record<string, unknown>
  operationName?: string
}

export interface CacheWarmer {
  /** Runs the list after a short quiet period; repeated calls coalesce. */
  schedule (): void
  /** Resolves when no warming run is pending or running (tests wait on it). */
  idle (): Promise<void>
  stop (): void
}

/** Reads and checks the file once at start: a bad file stops the app with a clear message. */
export function readWarmFile (path: string): WarmOperation[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(`CACHE_WARM_FILE must be a readable JSON file: ${path}: ${(error as Error).message}`)
  }
  if (!Array.isArray(parsed)) throw new Error(`CACHE_WARM_FILE must hold a JSON array: ${path}`)
  return parsed.map((entry: unknown, index) => {
    const { query, variables, operationName } = (entry ?? {}) as Record<string, unknown>
    const ok = typeof query === 'string' && (variables === undefined || (typeof variables === 'object' && variables !== null && !Array.isArray(variables))) &&
      (operationName === undefined || typeof operationName === 'string')
    if (!ok) throw new Error(`CACHE_WARM_FILE entry ${index} must be {query: string, variables?: object, operationName?: string}: ${JSON.stringify(entry)}`)
    return { query, variables, operationName } as WarmOperation
  })
}

export function createCacheWarmer (app: FastifyInstance, operations: readonly WarmOperation[], { debounceMs = 50 } = {}): CacheWarmer {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let stopped = false

  async function runAll (): Promise<void> {
    for (const operation of operations) {
      if (stopped) return
      const response = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(operation) })
      if (response.statusCode !== 200) app.log.warn({ status: response.statusCode, operationName: operation.operationName }, 'cache warming: an operation failed')
    }
  }

  return {
    schedule () {
      if (stopped || operations.length === 0) return
      clearTimeout(timer)
      timer = setTimeout(() => {
        timer = undefined
        running = running.then(runAll).catch((error) => app.log.warn({ err: error }, 'cache warming failed'))
      }, debounceMs)
      timer.unref()
    },
    async idle () {
      // eslint-disable-next-line no-unmodified-loop-condition -- the debounce timer's callback clears it
      while (timer !== undefined) await new Promise((resolve) => setTimeout(resolve, debounceMs))
      await running
    },
    stop () {
      stopped = true
      clearTimeout(timer)
      timer = undefined
    }
  }
}
