/**
 * The reference plain server of `npm run bench:compare`: what a competent team would write in
 * an afternoon with the same stack — Fastify, Mercurius with graphql-jit (`jit: 1`, as Jotter),
 * per-request DataLoaders with batched SQL, JWT auth with jose over the same tokens, the same
 * schema (src/graphql/schema.ts) and tables (migrations/*.sql) — and nothing else: no response
 * or row cache, no deadlines, no metrics, no load shedding, no input limits beyond the schema's.
 * It answers the mixes' operations with the same bytes as Jotter for the same viewer and data,
 * so the comparison is of the work each does, not of what they answer.
 *
 *   DATABASE_URL=… JWT_SECRET=… node --import tsx bench/reference-server/server.ts [--port 0]
 * Prints "listening <port>" once it listens on 127.0.0.1; SIGTERM closes it. The database must
 * already hold Jotter's tables (a Jotter started on it ran the migrations).
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { jwtVerify } from 'jose'
import mercurius from 'mercurius'
import pg from 'pg'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/auth/tokens.ts'
import { typeDefs } from '../../src/graphql/schema.ts'
import { createLoaders, USER_COLUMNS, type User, type Viewer } from './loaders.ts'
import { resolvers, type ReferenceContext } from './resolvers.ts'

/** Jotter's default DB_POOL_MAX, so both have as many connections to queue on. */
const POOL_SIZE = 10

async function serve (databaseUrl: string, secret: string, port: number): Promise<void> {
  const key = new TextEncoder().encode(secret)
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE })
  const contexts = new WeakMap<FastifyRequest, ReferenceContext>()
  const app = Fastify()

  // The token proves who is asking; the users row says whether they exist and their role now
  // (Jotter's rule, so a viewer deleted or demoted since the token was issued is answered alike).
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization
    let viewer: Viewer | null = null
    let row: User | undefined
    if (header !== undefined && header !== '') {
      try {
        const { payload } = await jwtVerify(header.slice(header.lastIndexOf(' ') + 1), key, { algorithms: ['HS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, requiredClaims: ['exp', 'sub'] })
        row = (await pool.query<User>(`select ${USER_COLUMNS} from users u where u.id = $1`, [payload.sub])).rows[0]
      } catch { /* an invalid token and a user who no longer exists are both refused below */ }
      if (row === undefined) return reply.code(401).send({ errors: [{ message: 'Invalid token.', extensions: { code: 'UNAUTHENTICATED' } }] })
      viewer = { id: row.id, role: row.role === 'admin' ? 'admin' : 'user' }
    }
    const loaders = createLoaders(pool, viewer)
    if (row !== undefined) loaders.userById.prime(row.id, row)
    contexts.set(request, { pool, viewer, loaders })
  })
  await app.register(mercurius, {
    schema: typeDefs,
    resolvers: resolvers as never,
    path: '/graphql',
    graphiql: false,
    jit: 1,
    context: (request) => contexts.get(request)!
  })
  await app.listen({ port, host: '127.0.0.1' })
  process.stdout.write(`listening ${(app.server.address() as AddressInfo).port}\n`)
  process.once('SIGTERM', () => {
    app.close().then(() => pool.end()).then(() => process.exit(0), () => process.exit(1))
  })
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } })
  const { DATABASE_URL: databaseUrl, JWT_SECRET: secret } = process.env
  if (!databaseUrl || !secret) {
    process.stderr.write('reference-server: DATABASE_URL and JWT_SECRET are required\n')
    process.exit(2)
  }
  serve(databaseUrl, secret, Number(values.port)).catch((error: unknown) => {
    process.stderr.write(`reference-server: ${(error as Error).stack}\n`)
    process.exit(2)
  })
}
