/**
 * The rows read-verifier.ts checks answers against (users' names, notes' authors and titles,
 * tag names), read straight from PostgreSQL with node-postgres on a connection of our own:
 * the check must not trust the server it checks.
 */
import pg from 'pg'
import type { DatabaseSnapshot } from './read-verifier.ts'

export async function readDatabaseSnapshot (databaseUrl: string): Promise<DatabaseSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'jotter-integrity-check' })
  await client.connect()
  try {
    // One snapshot for the three reads, so they agree with each other.
    await client.query('begin isolation level repeatable read read only')
    const users = await client.query<{ id: string, name: string }>('select id::text, name from users')
    const notes = await client.query<{ id: string, author_id: string, title: string }>('select id::text, author_id::text, title from notes')
    const tags = await client.query<{ name: string }>('select name from tags')
    await client.query('commit')
    return {
      users: new Map(users.rows.map((row) => [row.id, row.name])),
      notes: new Map(notes.rows.map((row) => [row.id, { authorId: row.author_id, title: row.title }])),
      tagNames: new Set(tags.rows.map((row) => row.name))
    }
  } finally {
    await client.end()
  }
}
