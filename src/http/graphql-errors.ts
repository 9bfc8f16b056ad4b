/**
 * Turns every error into the GraphQL response shape with a stable code from the catalogue:
 * resolver errors (Mercurius' errorFormatter) and request-level errors (Fastify's error
 * handler: bad JSON, wrong content type, body too large, validation). Anything that is not an
 * ApiError is masked as INTERNAL_SERVER_ERROR and logged in full.
 */
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { GraphQLError, type GraphQLFormattedError } from 'graphql'
import { apiError, apiErrorOf, errorCatalogue, formattedError, RETRY_AFTER_SECONDS, type ApiError, type ErrorCode, type ErrorName, type FixedErrorName } from '../errors.ts'
import { acceptsOnlyJson } from './media-type.ts'

export interface ErrorResponse {
  statusCode: number
  /** No `data` entry: the request failed before execution began (GraphQL spec, "Response"). */
  response: { errors: GraphQLFormattedError[] }
}

/** Fastify/Mercurius request-level errors and the catalogue's error each becomes (REQUEST_REFUSED keeps the framework's words). */
const requestErrors: Record<string, ErrorName> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_REFUSED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_REFUSED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_REFUSED',
  MER_ERR_METHOD_NOT_ALLOWED: 'MUTATION_OVER_GET',
  MER_ERR_GQL_CSRF_PREVENTION: 'REQUEST_REFUSED',
  MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND: 'REQUEST_REFUSED'
}

/** Formats the errors of an executed (or refused) operation. */
export function formatGraphQLErrors (errors: readonly unknown[], log: FastifyBaseLogger): GraphQLFormattedError[] {
  const formatted: GraphQLFormattedError[] = []
  for (const error of errors) {
    // Mercurius wraps validation failures: one error holding the list of GraphQL errors.
    const wrapper = error as { errors?: unknown, originalError?: { errors?: unknown } }
    const nested = wrapper.errors ?? wrapper.originalError?.errors
    if (Array.isArray(nested)) {
      for (const each of nested) formatted.push(formatOne(each, log, 'GRAPHQL_VALIDATION_FAILED'))
    } else {
      formatted.push(formatOne(error, log, 'INTERNAL_SERVER_ERROR'))
    }
  }
  return formatted
}

/**
 * The HTTP status of an executed operation. Field errors answer 200 (GraphQL-over-HTTP), even
 * when they null the whole data; only a timeout (504), an unreachable database (503) or a
 * throttled client (429) without any data carries its own status, so that proxies and
 * clients can retry.
 */
export function executionStatus (errors: readonly GraphQLFormattedError[], hasData: boolean): number {
  if (hasData || errors.length === 0) return 200
  const code = errors[0].extensions?.code
  // Variables that do not coerce are only found at execution once graphql-jit has compiled the
  // query (Mercurius checks them beforehand only for uncompiled ones): the same request error,
  // so the same 400.
  if (code === 'GRAPHQL_VALIDATION_FAILED') return 400
  return code === 'TIMEOUT' || code === 'SERVICE_UNAVAILABLE' || code === 'RATE_LIMITED' ? errorCatalogue[code].status : 200
}

/** Request errors that GraphQL-over-HTTP's legacy rule answers with 200 for application/json. */
const LEGACY_OK_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX'])

/**
 * GraphQL-over-HTTP: a client that accepts only `application/json` (one written before
 * `application/graphql-response+json` existed) gets parse, validation and variable-coercion
 * failures with status 200, the errors in the body; every other client gets 400.
 */
export function legacyStatus (statusCode: number, errors: readonly GraphQLFormattedError[], accept: string | undefined): number {
  if (statusCode !== 400 || !acceptsOnlyJson(accept)) return statusCode
  const code = errors[0]?.extensions?.code
  return typeof code === 'string' && LEGACY_OK_CODES.has(code) ? 200 : statusCode
}

/** Retry-After for RATE_LIMITED errors: the longest wait any of them asks for. */
export function retryAfterOf (errors: readonly GraphQLFormattedError[]): number | undefined {
  let seconds: number | undefined
  for (const error of errors) {
    const wait = error.extensions?.retryAfterSeconds
    if (error.extensions?.code === 'RATE_LIMITED' && typeof wait === 'number') seconds = Math.max(seconds ?? 0, wait)
  }
  return seconds
}

/** Fastify's error handler: every request-level failure in the GraphQL shape, with its status. */
export function createRequestErrorHandler ({ refineErrors }: { refineErrors (errors: GraphQLFormattedError[]): GraphQLFormattedError[] }) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { statusCode, response } = errorResponse(error, request.log)
    response.errors = refineErrors(response.errors)
    if (statusCode === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    const retryAfter = retryAfterOf(response.errors)
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
    if (request.responseMediaType) reply.header('content-type', request.responseMediaType)
    return reply.code(legacyStatus(statusCode, response.errors, request.headers.accept)).send(response)
  }
}

// Private:

/** A request-level failure (thrown before or instead of execution) as a GraphQL response. */
function errorResponse (error: unknown, log: FastifyBaseLogger): ErrorResponse {
  const api = apiErrorOf(error)
  if (api) return whole(api)
  const fastifyCode = (error as { code?: string }).code ?? ''
  const mapped = requestErrors[fastifyCode]
  if (mapped) return whole(mapped === 'REQUEST_REFUSED' ? apiError(mapped, { message: (error as Error).message }) : apiError(mapped as FixedErrorName))
  if (fastifyCode === 'MER_ERR_GQL_VALIDATION' && error instanceof SyntaxError) {
    // Mercurius' JSON.parse of GET variables; checkRequest refuses those first, this is the net.
    return whole(apiError('PARAMETERS_NOT_JSON'))
  }
  if (fastifyCode === 'MER_ERR_GQL_VALIDATION') {
    const errors = formatGraphQLErrors([error], log)
    const code = errors[0]?.extensions?.code as ErrorCode | undefined
    return { statusCode: code ? errorCatalogue[code]?.status ?? 400 : 400, response: { errors } }
  }
  const statusCode = (error as { statusCode?: number }).statusCode
  // Fastify's JSON parser reports bad JSON as a SyntaxError with statusCode 400.
  if (error instanceof SyntaxError || statusCode === 400) return whole(apiError('BODY_NOT_JSON'))
  log.error({ err: error }, 'unexpected request error')
  return whole(apiError('INTERNAL'))
}

function formatOne (error: unknown, log: FastifyBaseLogger, unknownCode: ErrorCode): GraphQLFormattedError {
  const located = error instanceof GraphQLError ? error : undefined
  const position = { ...(located?.locations ? { locations: located.locations } : {}), ...(located?.path ? { path: located.path } : {}) }
  const api = apiErrorOf(error)
  if (api) return formattedError(api, position)
  // Parse and validation errors, and (in the validation list) variable-coercion errors: those
  // carry the scalar's complaint as originalError, but they are about the request, not a bug.
  const requestError = located && (located.originalError === undefined || unknownCode === 'GRAPHQL_VALIDATION_FAILED')
  if (requestError) {
    // A GraphQL error raised by parsing or validation (graphql-js's own rules).
    const parse = located.message.startsWith('Syntax Error')
    return formattedError(apiError(parse ? 'DOCUMENT_NOT_PARSED' : 'DOCUMENT_NOT_VALID', { message: located.message }), position, located.extensions)
  }
  if (!located && unknownCode === 'GRAPHQL_VALIDATION_FAILED' && error instanceof Error) {
    // Mercurius' request-schema failures (e.g. variables not an object) arrive as plain errors.
    return formattedError(apiError('DOCUMENT_NOT_VALID', { message: error.message }))
  }
  log.error({ err: located?.originalError ?? error }, 'unexpected error in a resolver')
  return formattedError(apiError('INTERNAL'), position)
}

/** A failure of the whole request: the error's status, its body without `data`. */
function whole (error: ApiError): ErrorResponse {
  return { statusCode: error.statusCode, response: { errors: [formattedError(error)] } }
}
