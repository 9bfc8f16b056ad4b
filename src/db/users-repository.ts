/** SQL for users. Batch reads take many ids and answer with one statement. */
import { commitColumn, takeCommit } from './commits.ts'
import type { Database, QueryScope } from './gateway.ts'
import type { PageWindow, UserRow } from './rows.ts'

export interface UsersRepository {
  byIds (scope: QueryScope, ids: readonly string[]): Promise<UserRow[]>
  /** Users in id order, one window per entry; rows carry `parentIndex` (the window they answer). */
  pages (scope: QueryScope, windows: readonly PageWindow[]): Promise<Array<UserRow & { parentIndex: number }>>
  credentialsByEmail (scope: QueryScope, email: string): Promise<(UserRow & { passwordHash: string }) | undefined>
  /** Inserts a user; undefined when the email is taken (case-insensitively). */
  insert (scope: QueryScope, user: { name: string, email: string, passwordHash: string, role?: 'user' | 'admin' }): Promise<UserRow | undefined>
  updateName (scope: QueryScope, id: string, name: string): Promise<UserRow | undefined>
}

export function createUsersRepository (db: Database): UsersRepository {
  return {
    byIds: (scope, ids) => db.read<UserRow>(scope, 'usersByIds', (sql) => sql`
      select id, name, email, role, created_at as "createdAt"
      from users where id = any(${ids as string[]}::bigint[])`),

    pages: (scope, windows) => db.read(scope, 'usersPages', (sql) => sql`
      select k.ord - 1 as "parentIndex", u.id, u.name, u.email, u.role, u.created_at as "createdAt"
      from unnest(${windows.map((w) => w.first)}::int[], ${windows.map((w) => w.after ?? '0')}::bigint[])
        with ordinality as k(first, after_id, ord)
      cross join lateral (select * from users where id > k.after_id order by id limit k.first) u
      order by k.ord, u.id`),

    async credentialsByEmail (scope, email) {
      const [row] = await db.read<UserRow & { passwordHash: string }>(scope, 'userByEmail', (sql) => sql`
        select id, name, email, role, created_at as "createdAt", password_hash as "passwordHash"
        from users where lower(email) = lower(${email})`)
      return row
    },

    async insert (scope, { name, email, passwordHash, role = 'user' }) {
      const [row] = await db.query<UserRow & { commit: string }>(scope, 'insertUser', (sql) => sql`
        insert into users (name, email, password_hash, role) values (${name}, ${email}, ${passwordHash}, ${role})
        on conflict ((lower(email))) do nothing
        returning id, name, email, role, created_at as "createdAt", ${commitColumn(sql)}`)
      return row === undefined ? undefined : takeCommit(scope, row)
    },

    async updateName (scope, id, name) {
      const [row] = await db.query<UserRow & { commit: string }>(scope, 'updateUserName', (sql) => sql`
        update users set name = ${name} where id = ${id}
        returning id, name, email, role, created_at as "createdAt", ${commitColumn(sql)}`)
      return row === undefined ? undefined : takeCommit(scope, row)
    }
  }
}
