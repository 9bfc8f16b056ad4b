/**
 * Raw query text → what the cache needs to know about it: the hash of the normalized document
 * (parse + print, so whitespace and comments do not matter) and the type of each operation.
 * A small LRU keyed by the raw text means a repeated query costs one Map lookup, not a parse:
 * the hit path never parses.
 */
import { createHash } from 'node:crypto'
import { Kind, parse, print, type OperationTypeNode } from 'graphql'
import { LRUCache } from 'lru-cache'
import { reusableGetOptions } from '../cache-primitives/lru-get-options.ts'

export interface DocumentInfo {
  /** Undefined when the text does not parse (Mercurius reports the error; nothing is cached). */
  readonly hash: string | undefined
  /** Operation name ('' for the anonymous one) → its type. */
  readonly operations: ReadonlyMap<string, OperationTypeNode>
}

export interface DocumentInfoCache {
  infoOf (query: string): DocumentInfo
  /** The type of the operation a request runs, or undefined when it cannot be told. */
  operationTypeOf (info: DocumentInfo, operationName: string | null | undefined): OperationTypeNode | undefined
}

export function createDocumentInfoCache ({ maxTokens, maxChars = 8 * 1024 * 1024 }: { maxTokens: number, maxChars?: number }): DocumentInfoCache {
  const seen = new LRUCache<string, DocumentInfo>({ maxSize: maxChars, sizeCalculation: (_, text) => text.length + 64 })
  const getOptions = reusableGetOptions<string, DocumentInfo>()
  return {
    infoOf (query) {
      let info = seen.get(query, getOptions)
      if (info === undefined) {
        info = analyse(query, maxTokens)
        seen.set(query, info)
      }
      return info
    },
    operationTypeOf (info, operationName) {
      if (operationName) return info.operations.get(operationName)
      if (info.operations.size !== 1) return undefined
      return info.operations.values().next().value
    }
  }
}

// Private:

const unparsable: DocumentInfo = Object.freeze({ hash: undefined, operations: new Map() })

function analyse (query: string, maxTokens: number): DocumentInfo {
  let document
  try {
    // The token limit bounds the work an attacker can make us do before the real limits run.
    document = parse(query, { noLocation: true, maxTokens })
  } catch {
    return unparsable
  }
  const operations = new Map<string, OperationTypeNode>()
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) operations.set(definition.name?.value ?? '', definition.operation)
  }
  return { hash: createHash('sha256').update(print(document)).digest('base64url'), operations }
}
