/**
 * tools/: the dev tooling bench/, scripts/ and test/ share, so that none of them borrows
 * from test/ (lint forbids it); src/, the product, never imports tools/.
 *
 * Seeds a users → notes → tags graph straight through SQL (a few set-based statements, so
 * hundreds of rows take milliseconds). Shared by the N+1 guard, `npm run bench:loaders` and
 * `npm run bench:prepared`.
 *
 * Notes are inserted round-robin over the users, so any id-ordered page of notes has many
 * different authors. Every note carries the tag `common` plus two tags of a pool of
 * `tagPool` tags. One note in four is PRIVATE, so the visibility rule has work to do.
 */
import type { Sql } from '../src/db/gateway.ts'

export interface GraphShape {
  users: number
  notesPerUser: number
  /** Extra notes of the first user, appended after the round-robin ones (a "heavy" author). */
  heavyUserExtraNotes: number
  tagPool: number
}

export interface SeededGraph {
  /** User ids in id order; userIds[0] is the heavy user. */
  userIds: string[]
  commonTag: string
}

export const COMMON_TAG = 'common'

export async function seedGraph (sql: Sql, shape: GraphShape): Promise<SeededGraph> {
  const users = await sql<{ id: string }>`
    insert into users (name, email, password_hash)
    select 'User ' || i, 'seed-user-' || i || '@example.test', 'not-a-hash'
    from generate_series(1, ${shape.users}::int) i
    returning id`
  const userIds = users.map((row) => String(row.id)).sort((a, b) => Number(a) - Number(b))

  await sql`
    insert into notes (author_id, title, body, visibility)
    select u.id, 'Note ' || r.round || ' of user ' || u.id, 'body',
           case when (r.round + u.ord) % 4 = 0 then 'PRIVATE' else 'PUBLIC' end
    from generate_series(1, ${shape.notesPerUser}::int) r(round)
    cross join (select id, row_number() over (order by id) as ord from users) u
    order by r.round, u.id`
  await sql`
    insert into notes (author_id, title, body, visibility)
    select ${userIds[0]}::bigint, 'Extra note ' || i, 'body', case when i % 4 = 0 then 'PRIVATE' else 'PUBLIC' end
    from generate_series(1, ${shape.heavyUserExtraNotes}::int) i
    order by i`

  await sql`
    insert into tags (name)
    select ${COMMON_TAG} union all select 'tag-' || i from generate_series(1, ${shape.tagPool}::int) i`
  await sql`
    insert into note_tags (note_id, tag_id)
    select n.id, t.id from notes n join tags t on t.name = ${COMMON_TAG}
    union
    select n.id, t.id from notes n join tags t on t.name = 'tag-' || (n.id % ${shape.tagPool}::int + 1)
    union
    select n.id, t.id from notes n join tags t on t.name = 'tag-' || ((n.id + 7) % ${shape.tagPool}::int + 1)`
  await sql`analyze`
  return { userIds, commonTag: COMMON_TAG }
}
