/**
 * The two preHandlers of the GraphQL routes, with the response cache's lookup between them:
 *  1. checkRequest: negotiates the media type, checks the request's shape and resolves the
 *     viewer from the token (all a cache lookup needs);
 *  2. buildContext: the GraphQL budget and the request context with its loaders, made only
 *     when the request will execute (a cache hit never pays for them; measured in
 *     `npm run bench:cache`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { anonymousViewer, type Viewer } from '../viewer.ts'
import { createRequestContext, type AppServices, type RequestContext } from '../graphql/context.ts'
import { apiError, apiErrorOf } from '../errors.ts'
import { jsonShapeProblem } from './json-shape.ts'
import { negotiateMediaType } from './media-type.ts'
import { createOperationNameCheck, type OperationNameCheck } from './operation-name.ts'
import { clientAddressOf } from './rate-limits.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by checkRequest on GraphQL routes: who is asking. */
    viewer: Viewer | null
    /** Statements run before the context exists (the viewer's users row): counted with the rest. */
    viewerSqlCounter: { statements: number } | null
    /** Set by buildContext: only requests that execute have one. */
    jotter: RequestContext | null
    responseMediaType: string | null
  }
}

export function createRequestCheckHook (services: AppServices) {
  const checkOperationName = createOperationNameCheck(services.config)
  // Callback style: a token verified before and a cached users row (the usual request) make no
  // promise or async frame at all.
  return function checkRequest (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    const mediaType = negotiateMediaType(request.headers.accept)
    if (mediaType === undefined) return done(apiError('NOT_ACCEPTABLE'))
    request.responseMediaType = mediaType
    try {
      if (request.method === 'POST') checkPostBody(request.body, services.config, checkOperationName)
      else checkGetParameters(request.query as Record<string, unknown>, services.config, checkOperationName)
    } catch (error) {
      return done(error as Error)
    }
    const authorization = request.headers.authorization
    if (authorization === undefined || authorization === '') return accept(request, reply, anonymousViewer, done)
    if (!BEARER.test(authorization)) return done(apiError('AUTHORIZATION_MALFORMED'))
    // The token has no spaces: it starts after the last one (one slice, no match array).
    const token = authorization.slice(authorization.lastIndexOf(' ') + 1)
    const known = services.tokens.verifiedViewer(token)
    if (known !== undefined) return acceptSignedIn(request, reply, services, known, done)
    services.tokens.verify(token).then(
      (signedIn) => acceptSignedIn(request, reply, services, signedIn, done),
      // A token that is sent but bad fails the whole request: 401, not a silent anonymous answer.
      (error: unknown) => done(apiErrorOf(error) ?? apiError('TOKEN_INVALID'))
    )
  }
}

export function createRequestContextHook (services: AppServices) {
  const { graphqlTimeoutMs } = services.config
  // Callback style: a synchronous hook needs no promise and no extra microtask per request.
  return function buildContext (request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
    // The GraphQL budget: GRAPHQL_TIMEOUT_MS or what HTTP has left; disposed with the HTTP one.
    const deadline = request.deadline.child(graphqlTimeoutMs, 'graphql')
    request.jotter = createRequestContext(services, { viewer: request.viewer as Viewer, deadline, log: request.log, clientAddress: clientAddressOf(request), sqlCounter: request.viewerSqlCounter ?? undefined })
    done()
  }
}

// Private:

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i

/** The token says who; the users row says whether they still exist and with which role. */
function acceptSignedIn (request: FastifyRequest, reply: FastifyReply, services: AppServices, signedIn: Viewer, done: (error?: Error) => void): void {
  const viewer = services.viewerFromRow.cached(signedIn.id as string)
  if (viewer !== undefined) return accept(request, reply, viewer, done)
  readViewer(request, services, signedIn).then((viewer) => accept(request, reply, viewer, done), done)
}

async function readViewer (request: FastifyRequest, services: AppServices, signedIn: Viewer): Promise<Viewer> {
  const sqlCounter = { statements: 0 }
  // Reading the row is database work of the request: it gets the budget GraphQL would get
  // (a child of the HTTP budget, disposed with it), not the whole HTTP budget.
  const viewer = await services.viewerFromRow.read(signedIn.id as string,
    () => ({ sqlCounter, deadline: request.deadline.child(services.config.graphqlTimeoutMs, 'graphql') }))
  if (sqlCounter.statements > 0) request.viewerSqlCounter = sqlCounter
  return viewer
}

function accept (request: FastifyRequest, reply: FastifyReply, viewer: Viewer, done: () => void): void {
  request.viewer = viewer
  reply.header('content-type', request.responseMediaType as string)
  done()
}

type CheckConfig = AppServices['config']

function checkPostBody (body: unknown, config: CheckConfig, checkOperationName: OperationNameCheck): void {
  const { batchedQueries, maxBatchedOperations, production, maxJsonDepth } = config
  // The whole body, before anything reads deeper into it (the cache key walks the variables).
  const problem = jsonShapeProblem(body, maxJsonDepth)
  if (problem !== undefined) throw apiError('BODY_SHAPE', { part: 'The body', problem })
  // A single operation (the usual body) is checked without wrapping it in a one-element batch.
  if (!(batchedQueries && Array.isArray(body))) return checkOperation(body, checkOperationName)
  if (body.length === 0) throw apiError('BATCH_EMPTY')
  if (body.length > maxBatchedOperations) {
    throw apiError('BATCH_TOO_LARGE', { max: maxBatchedOperations, got: body.length, expose: !production })
  }
  for (const operation of body) checkOperation(operation, checkOperationName)
}

function checkOperation (operation: unknown, checkOperationName: OperationNameCheck): void {
  if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) {
    throw apiError('BODY_NOT_OPERATION')
  }
  const { query, variables, extensions } = operation as Record<string, unknown>
  checkQuery(query)
  checkObject('variables', variables)
  checkObject('extensions', extensions)
  checkOperationName(query as string, normalizeOperationName(operation as Record<string, unknown>))
}

/** GET: `variables` and `extensions` are JSON text; judged here like a POST body's. */
function checkGetParameters (parameters: Record<string, unknown>, config: CheckConfig, checkOperationName: OperationNameCheck): void {
  const { query } = parameters
  if (Array.isArray(query)) throw apiError('PARAMETER_REPEATED', { name: 'query' })
  checkQuery(query)
  for (const name of ['variables', 'extensions'] as const) {
    const text = parameters[name]
    if (text === undefined) continue
    if (typeof text !== 'string') throw apiError('PARAMETER_REPEATED', { name })
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw apiError('PARAMETER_NOT_JSON', { name })
    }
    checkObject(name, value, config.maxJsonDepth)
  }
  checkOperationName(query as string, normalizeOperationName(parameters))
}

function checkObject (name: string, value: unknown, maxJsonDepth?: number): void {
  if (value === undefined || value === null) return
  if (typeof value !== 'object' || Array.isArray(value)) throw apiError('PARAMETER_NOT_OBJECT', { name })
  if (maxJsonDepth === undefined) return
  const problem = jsonShapeProblem(value, maxJsonDepth)
  if (problem !== undefined) throw apiError('BODY_SHAPE', { part: name, problem })
}

/** An empty operationName means none (some clients send ""); Mercurius would look for it. */
function normalizeOperationName (parameters: Record<string, unknown>): unknown {
  if (parameters.operationName === '') parameters.operationName = undefined
  return parameters.operationName
}

// JSON values that GraphQL cannot parse but Mercurius would then try as a pre-parsed AST.
const MAYBE_JSON = /^\s*(?:[[\d"-]|true|false|null|\{\s*["}])/

function checkQuery (query: unknown): void {
  if (typeof query !== 'string' || query.trim() === '') throw apiError('QUERY_MISSING')
  // When a query fails to parse, Mercurius falls back to JSON.parse(query) and runs the result
  // as a document: "{}" or "42" (a number the body schema coerced to a string) then crash
  // validation with a 500, and a JSON AST would skip our parser. No GraphQL document is valid
  // JSON, so refusing JSON here loses nothing; the regex keeps JSON.parse off the hot path.
  if (MAYBE_JSON.test(query) && isJson(query)) {
    throw apiError('QUERY_NOT_GRAPHQL')
  }
}

function isJson (text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
