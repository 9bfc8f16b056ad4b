/**
 * Who is asking — a signed-in user (role user or admin) or the anonymous viewer — and the
 * questions an answer may ask about them.
 *
 * Execution sees the viewer only through an `AskedViewer` (`askingViewer`), which records every
 * question asked: the response cache then stores one entry for every viewer who
 * answers those questions the same way (docs/caching.md, "Answers shared across viewers").
 * Reading `id` or `scope` asks who the viewer is (the entry is that viewer's alone), reading
 * `role` asks for the role; `seesAllOf(userId)` asks the narrow question most answers need.
 */

export type Role = 'user' | 'admin'

export interface Viewer {
  /** User id, or null when anonymous. */
  readonly id: string | null
  readonly role: Role | 'anonymous'
  /** One per user and role; all anonymous viewers share one. */
  readonly scope: string
  /** Whether the viewer is user `userId` or an admin: may see everything of that user (private notes, email). */
  seesAllOf (userId: string): boolean
}

/** A viewer whose questions are recorded: what execution is given. */
export interface AskedViewer extends Viewer {
  /** Each question asked so far: `scope`, `role`, `all:<id>` (their answers: `answerOf`). */
  readonly asked: ReadonlySet<string>
}

export const anonymousViewer: Viewer = Object.freeze({ id: null, role: 'anonymous', scope: 'anonymous', seesAllOf: () => false })

export function userViewer (id: string, role: Role): Viewer {
  return Object.freeze({ id, role, scope: `${role}:${id}`, seesAllOf: (userId: string) => role === 'admin' || userId === id })
}

/**
 * `viewer`'s answer to `question`: what the response cache keys an entry by, and checks a stored
 * entry's answers against. Undefined for a question this code does not ask (an entry stored by
 * another version): no viewer matches it.
 */
export function answerOf (viewer: Viewer, question: string): string | undefined {
  if (question === 'scope') return viewer.scope
  if (question === 'role') return viewer.role
  if (question.startsWith('all:')) return viewer.seesAllOf(question.slice(4)) ? '1' : '0'
  return undefined
}

/** `viewer` for one execution, recording what it is asked. */
export function askingViewer (viewer: Viewer): AskedViewer {
  const asked = new Set<string>()
  return {
    asked,
    get id () { asked.add('scope'); return viewer.id },
    get scope () { asked.add('scope'); return viewer.scope },
    get role () { asked.add('role'); return viewer.role },
    seesAllOf: (userId) => { asked.add(`all:${userId}`); return viewer.seesAllOf(userId) }
  }
}
