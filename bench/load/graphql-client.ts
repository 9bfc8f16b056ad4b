/**
 * One GraphQL request at a time, outside the timed run: the setup's logins and id pages, and
 * the API seeding. Every answer is judged like the load judges it (response-outcome.ts): a
 * failure carries the same error type, e.g. "graphql SERVICE_UNAVAILABLE" or "timeout", so a
 * report can tally failures by code.
 */
import { Pool } from 'undici'
import { TIMEOUT_ERROR_TYPE } from './latency-recorder.ts'
import { sha256Hex } from './request-mix.ts'
import { classifyNetworkError, classifyResponse } from './response-outcome.ts'

export type GraphqlOutcome =
  | { ok: true, data: Record<string, unknown> }
  | { ok: false, errorType: string, message: string }

export interface GraphqlClient {
  request (query: string, variables: Record<string, unknown>, token: string | null): Promise<GraphqlOutcome>
  /** Like request, but a failure throws, its message naming `operation`. */
  data (operation: string, query: string, variables: Record<string, unknown>, token: string | null): Promise<Record<string, unknown>>
  close (): Promise<void>
}

export interface GraphqlClientOptions {
  /** The GraphQL endpoint. */
  url: string
  /** Keep-alive connections. */
  connections: number
  /** Per request. */
  timeoutMs: number
  /**
   * Automatic persisted queries: send the document's SHA-256 in `extensions.persistedQuery`,
   * and the document itself only after the server answers PERSISTED_QUERY_NOT_FOUND. Default false.
   */
  persistedQueries?: boolean
}

export function createGraphqlClient ({ url, connections, timeoutMs, persistedQueries = false }: GraphqlClientOptions): GraphqlClient {
  const target = new URL(url)
  const path = target.pathname + target.search
  const pool = new Pool(target.origin, { connections })

  async function request (query: string, variables: Record<string, unknown>, token: string | null): Promise<GraphqlOutcome> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
    if (token !== null) headers.authorization = `Bearer ${token}`
    let answer = await post(headers, persistedQueries ? { variables, extensions: extensionsOf(query) } : { query, variables })
    if (persistedQueries && !('errorType' in answer) && classifyResponse(answer.statusCode, answer.text)?.endsWith(' PERSISTED_QUERY_NOT_FOUND')) {
      answer = await post(headers, { query, variables, extensions: extensionsOf(query) })
    }
    if ('errorType' in answer) return answer
    const { statusCode, text } = answer
    const errorType = classifyResponse(statusCode, text)
    if (errorType !== null) return { ok: false, errorType, message: `${firstErrorMessage(text)} (HTTP ${statusCode})` }
    const data = parseData(text)
    if (data === undefined) return { ok: false, errorType: `http ${statusCode} no-data`, message: `HTTP ${statusCode} without data: ${text.slice(0, 200)}` }
    return { ok: true, data }
  }

  async function post (headers: Record<string, string>, body: object): Promise<{ statusCode: number, text: string } | GraphqlOutcome & { ok: false }> {
    try {
      const response = await pool.request({ path, method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) })
      return { statusCode: response.statusCode, text: await response.body.text() }
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError'
      return { ok: false, errorType: timedOut ? TIMEOUT_ERROR_TYPE : classifyNetworkError(error as Error), message: (error as Error).message }
    }
  }

  return {
    request,
    async data (operation, query, variables, token) {
      const outcome = await request(query, variables, token)
      if (!outcome.ok) throw new Error(`${operation}: ${outcome.errorType}: ${outcome.message}`)
      return outcome.data
    },
    close: () => pool.destroy()
  }
}

// Private:

function extensionsOf (query: string): { persistedQuery: { version: 1, sha256Hash: string } } {
  return { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } }
}

function parseData (text: string): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(text)?.data
    return data !== null && typeof data === 'object' ? data as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

function firstErrorMessage (text: string): string {
  try {
    const message: unknown = JSON.parse(text)?.errors?.[0]?.message
    return typeof message === 'string' ? message : text.slice(0, 200)
  } catch {
    return text.slice(0, 200)
  }
}
