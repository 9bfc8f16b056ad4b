/**
 * Token issue and verification: jose, HS256 pinned, with exp, iss and aud required.
 * The token proves who the user is; their current role and existence come from the users row
 * (viewer-from-row.ts), so a role change or a deletion does not wait for TOKEN_TTL. The role
 * in the token is what it was at issue time, checked for shape only.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose'
import { LRUCache } from 'lru-cache'
import { reusableGetOptions } from '../cache-primitives/lru-get-options.ts'
import { spreadTtl } from '../cache-primitives/spread-ttl.ts'
import { apiError } from '../errors.ts'
import { userViewer, type Role, type Viewer } from '../viewer.ts'

export const TOKEN_ISSUER = 'jotter'
export const TOKEN_AUDIENCE = 'jotter-api'

export interface TokenService {
  issue (userId: string, role: Role): Promise<string>
  /** The viewer a token stands for; UNAUTHENTICATED when it is invalid or expired. */
  verify (token: string): Promise<Viewer>
  /**
   * The viewer of a token verified before and still fresh, at once; undefined when it must go
   * through verify(). The usual request's path: no promise.
   */
  verifiedViewer (token: string): Viewer | undefined
}

export function createTokenService ({ secret, ttlSeconds, verifiedTtlMs = 60_000 }: { secret: string, ttlSeconds: number, verifiedTtlMs?: number }): TokenService {
  const key = new TextEncoder().encode(secret)
  // Verified tokens, for at most verifiedTtlMs (ROW_CACHE_TTL_MS) and never past their expiry:
  // HMAC checks are the one per-request cost every authenticated request pays, and clients
  // send the same token many times.
  const verified = new LRUCache<string, { viewer: Viewer, expiresAtMs: number }>({ max: 10_000 })
  const getOptions = reusableGetOptions<string, { viewer: Viewer, expiresAtMs: number }>()
  const verifiedViewer = (token: string): Viewer | undefined => {
    const hit = verified.get(token, getOptions)
    return hit !== undefined && hit.expiresAtMs > Date.now() ? hit.viewer : undefined
  }

  return {
    issue (userId, role) {
      return new SignJWT({ role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key)
    },

    verifiedViewer,

    async verify (token) {
      const known = verifiedViewer(token)
      if (known !== undefined) return known
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['exp', 'sub', 'iss', 'aud']
        })
        const role = payload.role
        if (typeof payload.sub !== 'string' || !/^\d{1,18}$/.test(payload.sub) || (role !== 'user' && role !== 'admin')) {
          throw apiError('TOKEN_INVALID')
        }
        const viewer = userViewer(payload.sub, role)
        verified.set(token, { viewer, expiresAtMs: Math.min((payload.exp as number) * 1000, Date.now() + spreadTtl(verifiedTtlMs)) })
        return viewer
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw apiError('TOKEN_EXPIRED')
        throw apiError('TOKEN_INVALID')
      }
    }
  }
}
