/**
 * The request id: the caller's `x-request-id` when it has a sane form (so a trace across a
 * proxy and Jotter shares one id), otherwise a fresh UUID. "Sane" keeps log injection and
 * unbounded ids out: 1–128 characters of letters, digits, '.', '_' and '-'.
 * Fastify calls this as `genReqId`; the id is echoed in the response by the request log.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const REQUEST_ID_HEADER = 'x-request-id'

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

export function requestIdOf (request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER]
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}
