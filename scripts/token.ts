/**
 * `npm run token -- --user EMAIL`: prints a token for that user on stdout (for load tests and
 * curl). The role comes from the database, the secret and lifetime from the same config as
 * the server (JWT_SECRET, else the dev secret in DATA_DIR; TOKEN_TTL).
 */
import { parseArgs } from 'node:util'
import { resolveJwtSecret } from '../src/auth/secret.ts'
import { createTokenService } from '../src/auth/tokens.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/connect.ts'

try {
  const { values } = parseArgs({ options: { user: { type: 'string' } } })
  if (!values.user) throw new Error('usage: npm run token -- --user EMAIL')
  const config = loadConfig()
  const database = await openDatabase(config, { log: (message) => console.error(`token: ${message}`) })
  try {
    await database.ready
    const [user] = await database.db.sql`select id, role from users where lower(email) = lower(${values.user})`
    if (!user) throw new Error(`no user with email ${JSON.stringify(values.user)}`)
    const tokens = createTokenService({ secret: resolveJwtSecret(config), ttlSeconds: config.tokenTtlSeconds })
    process.stdout.write(`${await tokens.issue(String(user.id), user.role as 'user' | 'admin')}\n`)
  } finally {
    await database.close()
  }
} catch (error) {
  console.error(`token: ${(error as Error).message}`)
  process.exit(1)
}
