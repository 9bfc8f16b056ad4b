/**
 * The small demo data set seeded into an empty database on first start, so that GraphiQL
 * shows something right away. Its logins are in the README.
 */
import type pg from 'pg'
import { withTransaction } from './trusted-sql.ts'

export const demoLogins = [
  { name: 'Ada Admin', email: 'admin@jotter.test', password: 'admin-password', role: 'admin' },
  { name: 'Alice', email: 'alice@jotter.test', password: 'alice-password', role: 'user' },
  { name: 'Bob', email: 'bob@jotter.test', password: 'bob-password', role: 'user' }
] as const

const demoNotes = [
  { author: 1, title: 'Welcome to Jotter', body: 'Public notes are visible to everyone.', visibility: 'PUBLIC', tags: ['welcome', 'public'] },
  { author: 1, title: 'Alice private plans', body: 'Only Alice and admins can read this.', visibility: 'PRIVATE', tags: ['plans'] },
  { author: 2, title: 'Bob on GraphQL', body: 'Batched loaders keep SQL per request flat.', visibility: 'PUBLIC', tags: ['graphql', 'public'] },
  { author: 2, title: 'Bob private diary', body: 'Nobody else should see this.', visibility: 'PRIVATE', tags: ['diary'] },
  { author: 0, title: 'Admin announcement', body: 'Maintenance on Sunday.', visibility: 'PUBLIC', tags: ['welcome'] }
] as const

/**
 * Seeds the demo data when the users table is empty; returns true when it did. The password
 * hash comes from auth/, above this layer, so it is passed in.
 */
export async function seedDemoDataIfEmpty (pool: pg.Pool, hashPassword: (password: string) => Promise<string>): Promise<boolean> {
  return withTransaction(pool, async (tx) => {
    // Two processes starting at once: the lock makes the second see the first's users.
    await tx`lock table users in exclusive mode`
    const [{ count }] = await tx`select count(*)::int as count from users`
    if (count > 0) return false
    const userIds: string[] = []
    for (const login of demoLogins) {
      const [row] = await tx`insert into users (name, email, password_hash, role)
        values (${login.name}, ${login.email}, ${await hashPassword(login.password)}, ${login.role}) returning id`
      userIds.push(row.id as string)
    }
    for (const note of demoNotes) {
      const [row] = await tx`insert into notes (author_id, title, body, visibility)
        values (${userIds[note.author]}, ${note.title}, ${note.body}, ${note.visibility}) returning id`
      for (const name of note.tags) {
        await tx`insert into tags (name) values (${name}) on conflict (name) do nothing`
        await tx`insert into note_tags (note_id, tag_id) select ${row.id as string}, id from tags where name = ${name}`
      }
    }
    return true
  })
}
