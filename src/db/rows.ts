/** Row shapes as the repositories return them (ids are strings: bigint in PostgreSQL). */

export interface UserRow {
  id: string
  name: string
  email: string
  role: 'user' | 'admin'
  createdAt: Date
}

export interface NoteRow {
  id: string
  authorId: string
  title: string
  body: string
  visibility: 'PRIVATE' | 'PUBLIC'
  createdAt: Date
  updatedAt: Date
}

export interface TagRow {
  id: string
  name: string
}

/** A window of a child list: `first` rows after id `after` (null = from the start). */
export interface PageWindow {
  first: number
  after: string | null
}
