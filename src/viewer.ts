/** Who is asking: a signed-in user (role user or admin) or the anonymous viewer. */

export type Role = 'user' | 'admin'

export interface Viewer {
  /** User id, or null when anonymous. */
  readonly id: string | null
  readonly role: Role | 'anonymous'
  /** The response-cache scope: one per user and role; all anonymous viewers share one. */
  readonly scope: string
}

export const anonymousViewer: Viewer = Object.freeze({ id: null, role: 'anonymous', scope: 'anonymous' })

export function userViewer (id: string, role: Role): Viewer {
  return Object.freeze({ id, role, scope: `${role}:${id}` })
}

export function isAdmin (viewer: Viewer): boolean {
  return viewer.role === 'admin'
}
