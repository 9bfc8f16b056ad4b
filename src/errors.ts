/**
 * Every error the API can return, with its stable code, in one catalogue.
 *
 * Resolvers throw `apiError(code, message)`; the error formatter keeps the code in
 * `errors[].extensions.code` and masks everything that is not an ApiError. The README's error
 * table is checked against `errorCatalogue` by a test.
 */
import { GraphQLError } from 'graphql'

export const errorCatalogue = {
  UNAUTHENTICATED: { status: 200, doc: 'The operation needs a valid `Authorization: Bearer <token>`; or a login failed. A token that is sent but invalid or expired fails the whole request with 401.' },
  FORBIDDEN: { status: 200, doc: 'The viewer may not do this.' },
  NOT_FOUND: { status: 200, doc: 'The object does not exist or the viewer cannot edit it; with HTTP 404, no such route.' },
  BAD_USER_INPUT: { status: 200, doc: 'An argument is invalid; the message names the field.' },
  CONFLICT: { status: 200, doc: 'The write met a concurrent one (deadlock or serialization failure) and was retried without success; nothing was applied. Retry it.' },
  TIMEOUT: { status: 504, doc: 'The request ran out of its time budget; finished fields keep their data.' },
  QUERY_TOO_COMPLEX: { status: 400, doc: 'Depth, aliases, directives, tokens or cost over the limit; nothing was executed.' },
  GRAPHQL_PARSE_FAILED: { status: 400, doc: 'The document is not valid GraphQL syntax.' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, doc: 'The document does not validate against the schema, or its variables do not.' },
  PERSISTED_QUERY_NOT_FOUND: { status: 400, doc: 'Automatic persisted queries: no document is stored under `extensions.persistedQuery.sha256Hash`; send the request again with its `query`. Nothing was run.' },
  DOCUMENT_NOT_TRUSTED: { status: 403, doc: 'TRUSTED_DOCUMENTS_FILE is set and the document (by hash or by text) is not in it; it was neither parsed nor run.' },
  BAD_REQUEST: { status: 400, doc: 'The HTTP request is malformed: bad JSON, missing query, wrong content type.' },
  NOT_ACCEPTABLE: { status: 406, doc: 'The Accept header allows no media type Jotter answers with.' },
  METHOD_NOT_ALLOWED: { status: 405, doc: 'A mutation sent with GET, or a method the route does not take.' },
  PAYLOAD_TOO_LARGE: { status: 413, doc: 'The request body is over BODY_LIMIT_BYTES.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'The POST body is not application/json or application/graphql.' },
  RATE_LIMITED: { status: 429, doc: 'Too many failed sign-ins for this email or from this client address (LOGIN_MAX_FAILURES_PER_*), or too many requests (RATE_LIMIT_MAX_REQUESTS); retry after Retry-After seconds.' },
  SERVICE_UNAVAILABLE: { status: 503, doc: 'Overloaded, shutting down, or the database is unreachable; retry after Retry-After.' },
  INTERNAL_SERVER_ERROR: { status: 500, doc: 'Unexpected error; the message is masked and the details are logged.' }
} as const

export type ErrorCode = keyof typeof errorCatalogue

/** An error the client may see verbatim. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly extensions: { code: ErrorCode, [key: string]: unknown }
  /** HTTP status when this error fails the whole request (default: the catalogue's). */
  readonly statusCode: number
  constructor (code: ErrorCode, message: string, extra: Record<string, unknown> = {}, statusCode?: number) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.extensions = { ...extra, code }
    this.statusCode = statusCode ?? errorCatalogue[code].status
  }
}

export function apiError (code: ErrorCode, message: string, extra?: Record<string, unknown>, statusCode?: number): ApiError {
  return new ApiError(code, message, extra, statusCode)
}

export function badInput (field: string, message: string): ApiError {
  return new ApiError('BAD_USER_INPUT', `${field}: ${message}`, { field })
}

export const MASKED_MESSAGE = 'Unexpected error.'

/** Seconds every 503 tells the client to wait (Retry-After): overload, start-up, database down. */
export const RETRY_AFTER_SECONDS = 1

/** The body of a response that fails as a whole, in the GraphQL shape every client reads. */
export interface ErrorBody { errors: Array<{ message: string, extensions: ApiError['extensions'] }> }

export function errorBody (error: ApiError): ErrorBody {
  return { errors: [{ message: error.message, extensions: error.extensions }] }
}

/** The ApiError behind a GraphQL error, if any (resolver errors arrive wrapped). */
export function apiErrorOf (error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error
  if (error instanceof GraphQLError && error.originalError) return apiErrorOf(error.originalError)
  return undefined
}
