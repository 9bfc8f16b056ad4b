/**
 * The response-cache keys. A request's key is a hash of the normalized document, the operation
 * name and the canonical variables: what the answer is to. Who asked is not in it; an answer
 * that asked about the viewer is found under a variant key (`variantKeyOf`) that holds the
 * questions and this viewer's answers, so it reaches only viewers who answer them alike
 * (docs/caching.md, "Answers shared across viewers").
 */
import { hash } from 'node:crypto'
import { answerOf, type Viewer } from '../viewer.ts'

export function responseCacheKey (documentHash: string, operationName: string | null | undefined, variables: unknown): string {
  // JSON-encoding each part keeps boundaries unambiguous: no part can spill into the next.
  // crypto.hash: one call, no Hash object (the key is computed for every lookup).
  return hash('sha256', JSON.stringify([documentHash, operationName ?? null, canonicalJson(variables ?? {})]), 'base64url')
}

/**
 * The key of `viewer`'s answer under `baseKey`, whose answers asked `questions` (sorted):
 * the questions themselves and the viewer's answer to each. Undefined when a question is one
 * this code does not ask (an entry of another version): no viewer may take that entry.
 */
export function variantKeyOf (baseKey: string, questions: readonly string[], viewer: Viewer): string | undefined {
  const answers: string[] = []
  for (const question of questions) {
    const answer = answerOf(viewer, question)
    if (answer === undefined) return undefined
    answers.push(answer)
  }
  return hash('sha256', JSON.stringify([baseKey, questions, answers]), 'base64url')
}

export type ResponseCacheKeyOf = (document: object, documentHash: string, operationName: string | null, variables: unknown) => string

/**
 * responseCacheKey, remembered for requests without variables: their key depends only on the
 * document and the operation, and computing it (a JSON array, SHA-256, base64url) on every
 * lookup is garbage on the hottest path. `document` is the document's identity (its
 * DocumentInfo); weak in it, so the memo leaves with the documents' LRU.
 */
export function createResponseCacheKeyOf (): ResponseCacheKeyOf {
  const byDocument = new WeakMap<object, Map<string | null, string>>()
  return (document, documentHash, operationName, variables) => {
    if (variables !== undefined && variables !== null && !isEmptyRecord(variables)) return responseCacheKey(documentHash, operationName, variables)
    let byOperation = byDocument.get(document)
    if (byOperation === undefined) byDocument.set(document, byOperation = new Map())
    let key = byOperation.get(operationName)
    if (key === undefined) byOperation.set(operationName, key = responseCacheKey(documentHash, operationName, undefined))
    return key
  }
}

/**
 * JSON with object keys sorted at every depth: `{b:1,a:2}` and `{a:2,b:1}` give the same text.
 * Iterative (an explicit stack, not recursion): the variables come from a client, who chooses
 * their depth, and this runs on every request.
 */
export function canonicalJson (value: unknown): string {
  // No variables (the usual cached query): no walk, no stack or key arrays.
  if (isEmptyRecord(value)) return '{}'
  // Flat variables with their keys in order (`{ id }`, `{ after, first }`): JSON.stringify
  // writes exactly the canonical text, as one string (the walk makes a dozen small ones).
  if (isFlatSortedRecord(value)) return JSON.stringify(value)
  let text = ''
  // Values still to write, last first; a Literal is punctuation or an object key, written as is.
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (item instanceof Literal) {
      text += item.text
    } else if (item === null || typeof item !== 'object') {
      text += JSON.stringify(item) ?? 'null'
    } else if (Array.isArray(item)) {
      text += '['
      pending.push(CLOSE_ARRAY)
      for (let i = item.length - 1; i >= 0; i--) {
        pending.push(item[i])
        if (i > 0) pending.push(COMMA)
      }
    } else {
      const record = item as Record<string, unknown>
      const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort()
      text += '{'
      pending.push(CLOSE_OBJECT)
      for (let i = keys.length - 1; i >= 0; i--) {
        pending.push(record[keys[i]], new Literal(`${JSON.stringify(keys[i])}:`))
        if (i > 0) pending.push(COMMA)
      }
    }
  }
  return text
}

// Private:

/**
 * A plain object (no toJSON of its own to call) whose own enumerable keys come in sorted order
 * and whose values are all strings, numbers, booleans or null: JSON.stringify then writes what
 * the walk would. Keys come in the order both use (integer-like keys first), so a record that
 * JSON.stringify would write out of order is not sorted here.
 */
function isFlatSortedRecord (value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return false
  let previous: string | undefined
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false
    const item = (value as Record<string, unknown>)[key]
    if (item !== null && typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') return false
    if (previous !== undefined && !(previous < key)) return false
    previous = key
  }
  return true
}

/** A plain object with no own enumerable key holding a defined value (what the walk writes as `{}`). */
function isEmptyRecord (value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  for (const key in value) {
    if (Object.hasOwn(value, key) && (value as Record<string, unknown>)[key] !== undefined) return false
  }
  return true
}

class Literal {
  constructor (readonly text: string) {}
}

const COMMA = new Literal(',')
const CLOSE_ARRAY = new Literal(']')
const CLOSE_OBJECT = new Literal('}')
