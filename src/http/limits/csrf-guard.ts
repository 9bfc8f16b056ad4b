/**
 * CSRF guard for POST /graphql, as Yoga and Apollo do it: a browser can send a "simple" POST
 * (text/plain, form encodings, no content type) cross-site without a preflight; such a request
 * is refused unless it carries a header only a script that passed CORS could set.
 *
 * Our own few lines rather than Mercurius' `csrfPrevention`, because that one also refuses
 * GET requests without the header, and GraphQL-over-HTTP GET queries (read-only here: GET
 * refuses mutations) must keep working from plain clients.
 */
import type { FastifyInstance } from 'fastify'
import { apiError } from '../../errors.ts'

/** Content types a browser cannot send cross-site without a CORS preflight. */
const NON_SIMPLE_TYPES = new Set(['application/json', 'application/graphql', 'application/graphql-response+json'])
/** Any of these headers forces a preflight, so its presence proves the request is not CSRF. */
export const PREFLIGHT_HEADERS = ['graphql-require-preflight', 'x-mercurius-operation-name', 'mercurius-require-preflight', 'apollo-require-preflight']

export function registerCsrfGuard (app: FastifyInstance, path: string): void {
  // Callback style: no promise or microtask per request.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method !== 'POST') return done()
    const rawType = request.headers['content-type']
    // The usual request, a plain JSON POST, passes before the route (request.routeOptions builds
    // an object, 118 bytes) and before the split of the header.
    if (rawType !== undefined && NON_SIMPLE_TYPES.has(rawType)) return done()
    if (request.routeOptions.url !== path) return done()
    const type = (rawType ?? '').split(';')[0].trim().toLowerCase()
    if (NON_SIMPLE_TYPES.has(type)) return done()
    if (PREFLIGHT_HEADERS.some((header) => request.headers[header] !== undefined)) return done()
    done(apiError('CSRF_SUSPECTED'))
  })
}
