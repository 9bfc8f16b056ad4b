import type { RequestContext } from './context.ts'
import { apiError } from '../errors.ts'

/** The signed-in viewer's id; UNAUTHENTICATED for anonymous requests. */
export function requireViewer (ctx: RequestContext): string {
  if (ctx.viewer.id === null) throw apiError('SIGN_IN_REQUIRED')
  return ctx.viewer.id
}
