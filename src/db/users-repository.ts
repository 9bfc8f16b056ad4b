/** SQL for users. Batch reads take many ids and answer with one statement. */
import type { Database, QueryScope } from './gateway.ts'
import type { PageWindow, UserRow } from './rows.ts'

export interface UsersRepository {
  byIds (scope: QueryScope, ids: readonly string[]): Promise<UserRow[]>
  page (scope: QueryScope, window: PageWindow): Promise<UserRow[]>
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

    page: (scope, { first, after }) => db.read<UserRow>(scope, 'usersPage', (sql) => sql`
      select id, name, email, role, created_at as "createdAt"
      from users where id > ${after ?? '0'} order by id limit ${first}`),

    async credentialsByEmail (scope, email) {
      const [row] = await db.read<UserRow & { passwordHash: string }>(scope, 'userByEmail', (sql) => sql`
        select id, name, email, role, created_at as "createdAt", password_hash as "passwordHash"
        from users where lower(email) = lower(${email})`)
      return row
    },

    async insert (scope, { name, email, passwordHash, role = 'user' }) {
      const [row] = await db.query<UserRow>(scope, 'insertUser', (sql) => sql`
        insert into users (name, email, password_hash, role) values (${name}, ${email}, ${passwordHash}, ${role})
        on conflict ((lower(email))) do nothing
        returning id, name, email, role, created_at as "createdAt"`)
      return row
    },

    async updateName (scope, id, name) {
      const [row] = await db.query<UserRow>(scope, 'updateUserName', (sql) => sql`
        update users set name = ${name} where id = ${id}
        returning id, name, email, role, created_at as "createdAt"`)
      return row
    }
  }
}
