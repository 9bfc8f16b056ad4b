/**
 * Bounded `operation_name` label values. Every distinct label value is a new time series in
 * Prometheus, and operation names come from clients: without a bound, a client that sends
 * random names grows the server's memory and the scrape without limit.
 *
 * The first `maxOperations` distinct names seen keep their own label (first come, first kept:
 * a real deployment's operations show up early and stay); every later name is "other",
 * an operation without a name is "anonymous". Anything that is not a GraphQL name is "other"
 * too, so raw client input can be passed in safely.
 *
 * Our own code (a Set and a bound): use one labeler per metric family set, shared by everything
 * that labels operations (GraphQL metrics, response-cache metrics), so they agree.
 */

export const ANONYMOUS_OPERATION = 'anonymous'
export const OTHER_OPERATION = 'other'

export interface OperationLabeler {
  /** The label value for an operation name: itself, "other" or "anonymous". */
  label (operationName: string | null | undefined): string
  /** How many distinct names hold their own label now (≤ maxOperations). */
  readonly size: number
}

export function createOperationLabeler (maxOperations: number): OperationLabeler {
  if (!Number.isInteger(maxOperations) || maxOperations < 1) {
    throw new Error(`maxOperations must be a positive integer: ${maxOperations}`)
  }
  const kept = new Set<string>()
  return {
    label (operationName) {
      if (operationName === null || operationName === undefined || operationName === '') return ANONYMOUS_OPERATION
      if (kept.has(operationName)) return operationName
      if (kept.size >= maxOperations || !GRAPHQL_NAME.test(operationName)) return OTHER_OPERATION
      kept.add(operationName)
      return operationName
    },
    get size () {
      return kept.size
    }
  }
}

/**
 * Put by the GraphQL route on a request's operation (the body, the GET parameters or a batch's
 * element) when it runs a persisted document: metrics name the operation by the manifest's
 * name, else the document's own, else `pq_` and the start of its hash; the request log line
 * carries the whole hash.
 */
export const PERSISTED_DOCUMENT = Symbol('jotter.persistedDocument')

export interface PersistedDocumentName {
  /** SHA-256 of the document, lowercase hex. */
  readonly hash: string
  /** From a trusted-documents manifest; null for automatic persisted queries. */
  readonly name: string | null
}

/** The label for an operation of a persisted document that has no name of its own. */
export function persistedDocumentLabel (hash: string): string {
  return `pq_${hash.slice(0, 16)}`
}

// Private:

// A GraphQL Name (spec §2.1.9), capped at 100 characters: a label is not a place for an essay.
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/
