/**
 * Every error the API can return, with its stable code, in one catalogue.
 *
 * `errorCatalogue` holds the public codes (documented in docs/api.md, a test keeps the two in
 * step); `errorDefinitions` every error by name with its code, status and message. The error
 * formatter keeps the code in `errors[].extensions.code` and masks everything that is not an
 * ApiError.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql'

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

/**
 * Every error the API answers with, by name: its public code (above), the HTTP status when it
 * fails the whole request (the code's unless said), and its message made from the values the
 * call site passes. Call sites name an error and give values (`apiError('NOTE_NOT_FOUND', { id })`);
 * no sentence, status or body is written anywhere else.
 */
export const errorDefinitions = {
  // Authentication
  SIGN_IN_REQUIRED: define({ code: 'UNAUTHENTICATED', message: () => 'Sign in to do this.' }),
  LOGIN_FAILED: define({ code: 'UNAUTHENTICATED', message: () => 'Invalid email or password.' }),
  AUTHORIZATION_MALFORMED: define({ code: 'UNAUTHENTICATED', status: 401, message: () => 'The Authorization header must be "Bearer <token>".' }),
  TOKEN_INVALID: define({ code: 'UNAUTHENTICATED', status: 401, message: () => 'Invalid token.' }),
  TOKEN_EXPIRED: define({ code: 'UNAUTHENTICATED', status: 401, message: () => 'Token expired.' }),
  TOKEN_USER_GONE: define({ code: 'UNAUTHENTICATED', status: 401, message: () => 'The user of this token no longer exists.' }),
  // Objects
  USER_NOT_FOUND: define({ code: 'NOT_FOUND', message: () => 'User not found.' }),
  NOTE_NOT_FOUND: define<{ id: string }>({ code: 'NOT_FOUND', message: ({ id }) => `Note ${id} not found.` }),
  ROUTE_NOT_FOUND: define<{ method: string, path: string }>({ code: 'NOT_FOUND', status: 404, message: ({ method, path }) => `No route ${method} ${path}.` }),
  // Arguments (extensions.field names the argument)
  EMAIL_TAKEN: argument<{ field: string }>(() => 'is already registered'),
  EMAIL_INVALID: argument<{ field: string }>(() => 'must be a valid email address'),
  EMAIL_TOO_LONG: argument<{ field: string, max: number }>(({ max }) => `must be at most ${max} characters`),
  FIRST_OUT_OF_RANGE: argument<{ field: string, max: number, got: number }>(({ max, got }) => `must be between 0 and ${max}, got ${got}`),
  ID_MALFORMED: argument<{ field: string, got: string }>(({ got }) => `must be a positive integer id, got ${JSON.stringify(got.slice(0, 40))}`),
  BODY_TOO_LARGE: argument<{ field: string, max: number, got: number }>(({ max, got }) => `must be at most ${max} bytes, got ${got}`),
  TOO_MANY_TAGS: argument<{ field: string, max: number, got: number }>(({ max, got }) => `at most ${max} tags, got ${got}`),
  TEXT_HAS_NUL: argument<{ field: string }>(() => 'must not contain NUL (\\u0000) characters'),
  TEXT_UNPAIRED_SURROGATE: argument<{ field: string }>(() => 'must not contain unpaired surrogates (not valid UTF-16)'),
  TEXT_LENGTH: argument<{ field: string, min: number, max: number, got: number }>(({ min, max, got }) => `must be ${min} to ${max} characters, got ${got}`),
  // Writes and the database
  WRITE_CONFLICT: define({ code: 'CONFLICT', message: () => 'The write conflicted with a concurrent one and was not applied; retry it.' }),
  DATABASE_UNAVAILABLE: define({ code: 'SERVICE_UNAVAILABLE', message: () => 'The database is unavailable; retry shortly.' }),
  TIMEOUT: define<{ layer: string }>({ code: 'TIMEOUT', message: () => 'The request ran out of time.', extensions: ({ layer }) => ({ layer }) }),
  // Load and start-up
  OVERLOADED: define({ code: 'SERVICE_UNAVAILABLE', message: () => 'The server is overloaded; retry after a moment.' }),
  NOT_STARTED: define({ code: 'SERVICE_UNAVAILABLE', message: () => 'The database is not reachable yet; retry shortly.' }),
  NOT_READY_STARTING: define({ code: 'SERVICE_UNAVAILABLE', message: () => 'Starting: the database has not answered yet.' }),
  NOT_READY_DATABASE: define({ code: 'SERVICE_UNAVAILABLE', message: () => 'The database is not answering.' }),
  LOGIN_THROTTLED: define<{ scope: string, seconds: number }>({
    code: 'RATE_LIMITED',
    message: ({ scope, seconds }) => `Too many failed sign-ins ${scope}; retry in ${seconds} s.`,
    extensions: ({ seconds }) => ({ retryAfterSeconds: seconds })
  }),
  REQUESTS_THROTTLED: define<{ seconds: number }>({
    code: 'RATE_LIMITED',
    message: ({ seconds }) => `Too many requests from this address; retry in ${seconds} s.`,
    extensions: ({ seconds }) => ({ retryAfterSeconds: seconds })
  }),
  // The HTTP request
  NOT_ACCEPTABLE: define({ code: 'NOT_ACCEPTABLE', message: () => 'Accept application/graphql-response+json or application/json.' }),
  UNSUPPORTED_MEDIA_TYPE: define({ code: 'UNSUPPORTED_MEDIA_TYPE', message: () => 'Send application/json (or application/graphql) with POST.' }),
  PAYLOAD_TOO_LARGE: define({ code: 'PAYLOAD_TOO_LARGE', message: () => 'The request body is too large.' }),
  MUTATION_OVER_GET: define({ code: 'METHOD_NOT_ALLOWED', message: () => 'Mutations are not allowed with GET; use POST.' }),
  CSRF_SUSPECTED: define({ code: 'BAD_REQUEST', message: () => 'This request looks like a cross-site request forgery: send Content-Type: application/json, or a GraphQL-Require-Preflight header.' }),
  BODY_NOT_JSON: define({ code: 'BAD_REQUEST', message: () => 'The request body is not valid JSON.' }),
  PARAMETERS_NOT_JSON: define({ code: 'BAD_REQUEST', message: () => 'variables or extensions are not valid JSON.' }),
  BODY_SHAPE: define<{ part: string, problem: string }>({ code: 'BAD_REQUEST', message: ({ part, problem }) => `${part} ${problem}.` }),
  BODY_NOT_OPERATION: define({ code: 'BAD_REQUEST', message: () => 'The body must be a JSON object with a "query".' }),
  BATCH_EMPTY: define({ code: 'BAD_REQUEST', message: () => 'A batch must hold at least one operation.' }),
  BATCH_TOO_LARGE: define<{ max: number, got: number, expose: boolean }>({
    code: 'BAD_REQUEST',
    message: ({ max, got, expose }) => expose ? `A batch may hold at most ${max} operations (MAX_BATCHED_OPERATIONS); got ${got}.` : 'Too many operations in one batch (MAX_BATCHED_OPERATIONS).'
  }),
  QUERY_MISSING: define({ code: 'BAD_REQUEST', message: () => 'Missing query.' }),
  PARAMETER_REPEATED: define<{ name: string }>({ code: 'BAD_REQUEST', message: ({ name }) => `${name} must be given once.` }),
  PARAMETER_NOT_JSON: define<{ name: string }>({ code: 'BAD_REQUEST', message: ({ name }) => `${name} is not valid JSON.` }),
  PARAMETER_NOT_OBJECT: define<{ name: string }>({ code: 'BAD_REQUEST', message: ({ name }) => `${name} must be a JSON object.` }),
  OPERATION_NAME_NOT_STRING: define({ code: 'BAD_REQUEST', message: () => 'operationName must be a string.' }),
  OPERATION_NAME_REQUIRED: define({ code: 'BAD_REQUEST', message: () => 'The document holds several operations: send operationName to choose one.' }),
  OPERATION_NAME_UNKNOWN: define<{ name: string, expose: boolean }>({
    code: 'BAD_REQUEST',
    message: ({ name, expose }) => expose ? `The document holds no operation named ${JSON.stringify(name.slice(0, 100))}.` : 'The document holds no operation of that operationName.'
  }),
  /** A request the framework refused (Fastify, Mercurius): its own words, which name what was wrong. */
  REQUEST_REFUSED: define<{ message: string }>({ code: 'BAD_REQUEST', message: ({ message }) => message }),
  // Persisted queries and trusted documents
  PERSISTED_QUERY_UNKNOWN: define({ code: 'PERSISTED_QUERY_NOT_FOUND', message: () => 'PersistedQueryNotFound: send the request again with its query.' }),
  PERSISTED_QUERY_MALFORMED: define<{ problem: string }>({ code: 'BAD_REQUEST', message: ({ problem }) => `extensions.persistedQuery ${problem}` }),
  PERSISTED_QUERY_HASH_MISMATCH: define<{ field: string }>({
    code: 'BAD_USER_INPUT',
    status: 400,
    message: ({ field }) => `${field}: is not the SHA-256 of the query; nothing was stored or run.`,
    extensions: ({ field }) => ({ field })
  }),
  DOCUMENT_HASH_NOT_LISTED: define({ code: 'DOCUMENT_NOT_TRUSTED', message: () => 'No trusted document has this sha256Hash.' }),
  DOCUMENT_NOT_LISTED: define({ code: 'DOCUMENT_NOT_TRUSTED', message: () => 'Only trusted documents run here, and this one is not: send a listed document or its sha256Hash.' }),
  // The document (graphql-js's own words name the place and the problem)
  DOCUMENT_NOT_PARSED: define<{ message: string }>({ code: 'GRAPHQL_PARSE_FAILED', message: ({ message }) => message }),
  DOCUMENT_NOT_VALID: define<{ message: string }>({ code: 'GRAPHQL_VALIDATION_FAILED', message: ({ message }) => message }),
  LIMIT_EXCEEDED: define<{ what: string, limit: string, detail: string, expose: boolean }>({
    code: 'QUERY_TOO_COMPLEX',
    message: ({ what, limit, detail, expose }) => expose ? detail : `The query has too many ${what} (${limit}).`
  }),
  QUERY_NOT_GRAPHQL: define({ code: 'GRAPHQL_PARSE_FAILED', message: () => 'Syntax Error: the query is not a GraphQL document.' }),
  TOO_MANY_TOKENS: define<{ max: number, expose: boolean }>({
    code: 'QUERY_TOO_COMPLEX',
    message: ({ max, expose }) => expose ? `The document has more than ${max} tokens (MAX_TOKENS).` : 'The document has too many tokens (MAX_TOKENS).'
  }),
  COST_OVER_LIMIT: define<{ cost: number, max: number, expose: boolean }>({
    code: 'QUERY_TOO_COMPLEX',
    message: ({ cost, max, expose }) => expose
      ? `The query would touch about ${cost} rows; the limit is ${max} (MAX_COST). Ask for fewer items with \`first\`.`
      : 'The query would touch too many rows (MAX_COST). Ask for fewer items with `first`.'
  }),
  INTERNAL: define({ code: 'INTERNAL_SERVER_ERROR', message: () => MASKED_MESSAGE })
} as const

export type ErrorName = keyof typeof errorDefinitions
type ValuesOf<N extends ErrorName> = Parameters<(typeof errorDefinitions)[N]['message']>[0]
/** The errors whose message takes no values. */
export type FixedErrorName = { [N in ErrorName]: undefined extends ValuesOf<N> ? N : never }[ErrorName]

/** An error the client may see verbatim. */
export class ApiError extends Error {
  readonly code: ErrorCode
  /** Its name in errorDefinitions: what logs and tests tell errors of one code apart by. */
  readonly errorName: ErrorName
  readonly extensions: { code: ErrorCode, [key: string]: unknown }
  /** HTTP status when this error fails the whole request. */
  readonly statusCode: number
  constructor (errorName: ErrorName, message: string, code: ErrorCode, extensions: Record<string, unknown>, statusCode: number) {
    super(message)
    this.name = 'ApiError'
    this.errorName = errorName
    this.code = code
    this.extensions = { ...extensions, code }
    this.statusCode = statusCode
  }
}

/** The error `name` with `values` in its message: `apiError('NOTE_NOT_FOUND', { id })`. */
export function apiError<N extends ErrorName> (name: N, ...values: undefined extends ValuesOf<N> ? [] : [ValuesOf<N>]): ApiError {
  const definition = errorDefinitions[name] as ErrorDefinition<ValuesOf<N>>
  const given = values[0] as ValuesOf<N>
  return new ApiError(name, definition.message(given), definition.code, definition.extensions?.(given) ?? {}, definition.status ?? errorCatalogue[definition.code].status)
}

export const MASKED_MESSAGE = 'Unexpected error.'

/** Seconds every 503 tells the client to wait (Retry-After): overload, start-up, database down. */
export const RETRY_AFTER_SECONDS = 1

/** The body of a response that fails as a whole, in the GraphQL shape every client reads. */
export interface ErrorBody { errors: GraphQLFormattedError[] }

export function errorBody (error: ApiError): ErrorBody {
  return { errors: [formattedError(error)] }
}

/** The whole-request body of the error `name`: the bodies no execution made (health, shedding). */
export function errorBodyOf<N extends ErrorName> (name: N, ...values: undefined extends ValuesOf<N> ? [] : [ValuesOf<N>]): ErrorBody {
  return errorBody(apiError(name, ...values))
}

/** `error` as it stands in a response's `errors`, at the place in the document graphql-js gave. */
export function formattedError (error: ApiError, position: Pick<GraphQLFormattedError, 'locations' | 'path'> = {}, extra: Record<string, unknown> = {}): GraphQLFormattedError {
  return { message: error.message, ...position, extensions: { ...extra, ...error.extensions } }
}

/** `error` as a GraphQLError: what a validation rule reports (the formatter finds the ApiError in it). */
export function graphqlErrorOf (error: ApiError): GraphQLError {
  return new GraphQLError(error.message, { extensions: error.extensions, originalError: error })
}

/** The ApiError behind a GraphQL error, if any (resolver errors arrive wrapped). */
export function apiErrorOf (error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error
  if (error instanceof GraphQLError && error.originalError) return apiErrorOf(error.originalError)
  return undefined
}

// Private:

interface ErrorDefinition<V> {
  readonly code: ErrorCode
  /** The HTTP status when it fails the whole request; the code's when absent. */
  readonly status?: number
  readonly message: (values: V) => string
  readonly extensions?: (values: V) => Record<string, unknown>
}

function define<V = undefined> (definition: ErrorDefinition<V>): ErrorDefinition<V> {
  return definition
}

/** A bad argument: BAD_USER_INPUT, "field: problem", extensions.field. */
function argument<V extends { field: string }> (problem: (values: V) => string): ErrorDefinition<V> {
  return { code: 'BAD_USER_INPUT', message: (values) => `${values.field}: ${problem(values)}`, extensions: ({ field }) => ({ field }) }
}
