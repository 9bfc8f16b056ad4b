/**
 * The preHandler of the GraphQL routes: negotiates the media type, checks the request's
 * shape, resolves the viewer from the token and builds the request context, before the
 * response cache and Mercurius see the request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { anonymousViewer, type Viewer } from '../auth/viewer.ts'
import { createRequestContext, type AppServices, type RequestContext } from '../context.ts'
import { apiError } from '../errors.ts'
import { negotiateMediaType } from './media-type.ts'

declare module 'fastify' {
  interface FastifyRequest {
    jotter: RequestContext | null
    responseMediaType: string | null
  }
}

export function createRequestContextHook (services: AppServices) {
  return async function buildRequestContext (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const mediaType = negotiateMediaType(request.headers.accept)
    if (mediaType === undefined) throw apiError('NOT_ACCEPTABLE', 'Accept application/graphql-response+json or application/json.')
    request.responseMediaType = mediaType
    if (request.method === 'POST') checkPostBody(request.body, services.config.batchedQueries)
    else if (typeof (request.query as { query?: unknown }).query !== 'string') throw apiError('BAD_REQUEST', 'Missing query.')
    const viewer = await viewerOf(request.headers.authorization, services)
    request.jotter = createRequestContext(services, { viewer, deadline: request.deadline, log: request.log })
    reply.header('content-type', mediaType)
  }
}

// Private:

async function viewerOf (authorization: string | undefined, services: AppServices): Promise<Viewer> {
  if (authorization === undefined || authorization === '') return anonymousViewer
  const match = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(authorization)
  if (!match) throw apiError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".', {}, 401)
  try {
    return await services.tokens.verify(match[1])
  } catch (error) {
    // A token that is sent but bad fails the whole request: 401, not a silent anonymous answer.
    throw apiError('UNAUTHENTICATED', (error as Error).message, {}, 401)
  }
}

function checkPostBody (body: unknown, batched: boolean): void {
  const operations = batched && Array.isArray(body) ? body : [body]
  for (const operation of operations) {
    if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) {
      throw apiError('BAD_REQUEST', 'The body must be a JSON object with a "query".')
    }
    const { query } = operation as { query?: unknown }
    if (typeof query !== 'string' || query.trim() === '') throw apiError('BAD_REQUEST', 'Missing query.')
  }
}
