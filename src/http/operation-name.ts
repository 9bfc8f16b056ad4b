/**
 * Which operation a request runs: an operationName the document does not hold, or several
 * operations and no name, is a bad request (400 BAD_REQUEST), on GET as on POST. Mercurius
 * answers the first with a 500 on GET (it reads the missing operation's type) and both with a
 * validation error on POST, so the names are checked here, before it runs.
 *
 * The operation names of recent documents are kept in a small LRU keyed by the document
 * text, so a repeated query costs one lookup; a new one costs one parse bounded by MAX_TOKENS.
 * A document that does not parse is left to Mercurius, which reports the syntax error.
 */
import { Kind, parse } from 'graphql'
import { LRUCache } from 'lru-cache'
import { reusableGetOptions } from '../cache-primitives/lru-get-options.ts'
import { apiError } from '../errors.ts'

const DOCUMENTS_KEPT = 1000
const UNPARSABLE: readonly (string | null)[] = Object.freeze([])

export type OperationNameCheck = (query: string, operationName: unknown) => void

export function createOperationNameCheck ({ maxTokens, production }: { maxTokens: number, production: boolean }): OperationNameCheck {
  const namesByDocument = new LRUCache<string, readonly (string | null)[]>({ max: DOCUMENTS_KEPT })
  const getOptions = reusableGetOptions<string, readonly (string | null)[]>()

  function operationNames (query: string): readonly (string | null)[] {
    let names = namesByDocument.get(query, getOptions)
    if (names === undefined) {
      names = UNPARSABLE
      try {
        const document = parse(query, { maxTokens, noLocation: true })
        names = document.definitions.flatMap((definition) =>
          definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value ?? null] : [])
      } catch {
        // Mercurius parses it again and answers GRAPHQL_PARSE_FAILED.
      }
      namesByDocument.set(query, names)
    }
    return names
  }

  return (query, operationName) => {
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
      throw apiError('OPERATION_NAME_NOT_STRING')
    }
    const names = operationNames(query)
    if (names === UNPARSABLE || names.length === 0) return
    if (operationName === undefined || operationName === null) {
      if (names.length > 1) throw apiError('OPERATION_NAME_REQUIRED')
      return
    }
    if (!names.includes(operationName)) {
      throw apiError('OPERATION_NAME_UNKNOWN', { name: operationName, expose: !production })
    }
  }
}
