import type { RequestContext } from './context.ts'
import { apiError } from '../errors.ts'

/** The signed-in viewer's id; UNAUTHENTICATED for anonymous requests. */
export function requireViewer (ctx: RequestContext): string {
  if (ctx.viewer.id === null) throw apiError('UNAUTHENTICATED', 'Sign in to do this.')
  return ctx.viewer.id
}
