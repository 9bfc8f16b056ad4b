/**
 * The response-cache key: a hash of the normalized document, the operation name, the
 * canonical variables and the viewer's scope. The scope is part of every key, so a response
 * can only ever be found again by the same user with the same role (or by another anonymous
 * viewer for anonymous responses): isolation does not depend on any other code being right.
 */
import { hash } from 'node:crypto'

export function responseCacheKey (documentHash: string, operationName: string | null | undefined, variables: unknown, scope: string): string {
  // JSON-encoding each part keeps boundaries unambiguous: no part can spill into the next.
  // crypto.hash: one call, no Hash object (the key is computed for every lookup).
  return hash('sha256', JSON.stringify([documentHash, operationName ?? null, canonicalJson(variables ?? {}), scope]), 'base64url')
}

/** JSON with object keys sorted at every depth: `{b:1,a:2}` and `{a:2,b:1}` give the same text. */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort()
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`
}
