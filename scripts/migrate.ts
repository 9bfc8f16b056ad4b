/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded
 * PostgreSQL when it is unset (the same resolution as `npm start`), and prints what it applied.
 */
import { ConfigError, loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/connect.ts'
import { listMigrations } from '../src/db/migrate.ts'

try {
  const config = loadConfig()
  const applied: string[] = []
  const database = await openDatabase(config, {
    log: (message) => {
      if (message.startsWith('applied migration')) applied.push(message)
      console.log(`migrate: ${message}`)
    }
  })
  await database.ready // with DATABASE_URL, migrations run (and retry) in the background
  await database.close()
  const latest = listMigrations().at(-1)
  console.log(applied.length === 0
    ? `migrate: nothing to apply; the schema is at ${latest ? `${latest.version}-${latest.name}` : 'no migration'}`
    : `migrate: applied ${applied.length} migration(s)`)
} catch (error) {
  console.error(`migrate: ${error instanceof ConfigError ? 'configuration error: ' : ''}${(error as Error).message}`)
  process.exit(1)
}
