/**
 * GET /graphiql: the GraphiQL IDE, with every file it needs served by this process from the
 * npm packages installed with the project (graphiql, react, react-dom), so that it works on a
 * machine with no internet. Mercurius' own `graphiql` option loads those from a CDN, so it is
 * turned off and this takes its place; it is registered only outside PRODUCTION.
 *
 * The Content-Security-Policy allows nothing but this origin for scripts, styles, fonts and
 * fetches: an asset that still pointed elsewhere would fail loudly in the browser.
 */
import { createReadStream, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

export const GRAPHIQL_PATH = '/graphiql'

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // GraphiQL's editors and React set style attributes at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const JAVASCRIPT = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'

interface Asset { file: string, contentType: string }

export function registerGraphiQLRoutes (app: FastifyInstance): void {
  const assets = graphiqlAssets()
  const page = join(here(), 'index.html')

  app.get(GRAPHIQL_PATH, (_request, reply) => reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('cache-control', 'no-cache')
    .send(createReadStream(page)))

  for (const [name, asset] of Object.entries(assets)) {
    app.get(`${GRAPHIQL_PATH}/assets/${name}`, (_request, reply) => reply
      .type(asset.contentType)
      // Fetched again on each page load (a development tool, usually over loopback): a browser
      // never keeps an old copy after the packages are upgraded.
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(createReadStream(asset.file)))
  }
}

// Private:

/** URL name → file on disk; resolved at start-up, so a missing package fails the start, not a page load. */
function graphiqlAssets (): Record<string, Asset> {
  const resolve = createRequire(import.meta.url).resolve
  const packageDir = (name: string): string => dirname(resolve(`${name}/package.json`))
  const graphiql = packageDir('graphiql')
  const react = packageDir('react')
  const reactDom = packageDir('react-dom')
  const assets: Record<string, Asset> = {
    'graphiql.min.css': { file: join(graphiql, 'graphiql.min.css'), contentType: CSS },
    'graphiql.min.js': { file: join(graphiql, 'graphiql.min.js'), contentType: JAVASCRIPT },
    'react.production.min.js': { file: join(react, 'umd', 'react.production.min.js'), contentType: JAVASCRIPT },
    'react-dom.production.min.js': { file: join(reactDom, 'umd', 'react-dom.production.min.js'), contentType: JAVASCRIPT },
    'start-graphiql.js': { file: join(here(), 'start-graphiql.js'), contentType: JAVASCRIPT }
  }
  for (const { file } of Object.values(assets)) {
    if (!existsSync(file)) throw new Error(`GraphiQL asset missing: ${file} (run npm ci, or set PRODUCTION=true to serve no GraphiQL)`)
  }
  return assets
}

function here (): string {
  return dirname(fileURLToPath(import.meta.url))
}
