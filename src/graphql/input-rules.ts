/**
 * The input limits, each a BAD_USER_INPUT naming the field. Checked in resolvers before any
 * SQL runs; the tests cover each limit on both sides. Every string that reaches SQL passes
 * `storable`: PostgreSQL text cannot hold NUL, and an unpaired surrogate would be stored as
 * U+FFFD, silently not what was sent.
 */
import { apiError } from '../errors.ts'
import type { PageWindow } from '../db/rows.ts'

export const limits = Object.freeze({
  firstMax: 100,
  titleMaxChars: 200,
  bodyMaxBytes: 100 * 1024,
  tagsMax: 10,
  tagMaxChars: 40,
  nameMaxChars: 100,
  emailMaxChars: 254,
  passwordMinChars: 8,
  passwordMaxChars: 1024
})

// A pragmatic address check: one @, no spaces, a dot in the domain (RFC 5322 allows more,
// but nothing a notes service needs to accept).
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/
const ID = /^[1-9]\d{0,17}$/
// With the u flag a well-formed pair is one code point; only a lone half is a Surrogate.
const UNPAIRED_SURROGATE = /\p{Surrogate}/u

export function pageWindow (args: { first?: number | null, after?: string | null }, defaultFirst: number, field = 'first'): PageWindow {
  const first = args.first ?? defaultFirst
  if (first < 0 || first > limits.firstMax) throw apiError('FIRST_OUT_OF_RANGE', { field, max: limits.firstMax, got: first })
  return { first, after: args.after == null ? null : id(args.after, 'after') }
}

export function id (value: string, field = 'id'): string {
  if (!ID.test(value)) throw apiError('ID_MALFORMED', { field, got: value })
  return value
}

export function title (value: string): string {
  return chars(value, 'title', 1, limits.titleMaxChars)
}

export function body (value: string): string {
  storable(value, 'body')
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > limits.bodyMaxBytes) throw apiError('BODY_TOO_LARGE', { field: 'body', max: limits.bodyMaxBytes, got: bytes })
  return value
}

export function tagNames (values: readonly string[]): string[] {
  if (values.length > limits.tagsMax) throw apiError('TOO_MANY_TAGS', { field: 'tags', max: limits.tagsMax, got: values.length })
  const names = values.map((value) => chars(value, 'tags', 1, limits.tagMaxChars))
  return [...new Set(names)]
}

export function name (value: string): string {
  return chars(value.trim(), 'name', 1, limits.nameMaxChars)
}

export function email (value: string): string {
  const trimmed = storable(value, 'email').trim()
  if (trimmed.length > limits.emailMaxChars || !EMAIL.test(trimmed)) throw apiError('EMAIL_INVALID', { field: 'email' })
  return trimmed
}

/** A login's email: only what can be looked up (a malformed one simply matches no account). */
export function loginEmail (value: string): string {
  const trimmed = storable(value, 'email').trim()
  if (trimmed.length > limits.emailMaxChars) throw apiError('EMAIL_TOO_LONG', { field: 'email', max: limits.emailMaxChars })
  return trimmed
}

/** Refuses what PostgreSQL text cannot store as sent: NUL, and unpaired surrogates. */
export function storable (value: string, field: string): string {
  if (value.includes('\u0000')) throw apiError('TEXT_HAS_NUL', { field })
  if (UNPAIRED_SURROGATE.test(value)) throw apiError('TEXT_UNPAIRED_SURROGATE', { field })
  return value
}

export function password (value: string): string {
  return chars(value, 'password', limits.passwordMinChars, limits.passwordMaxChars)
}

// Private:

function chars (value: string, field: string, min: number, max: number): string {
  storable(value, field)
  const length = [...value].length // code points, not UTF-16 units
  if (length < min || length > max) throw apiError('TEXT_LENGTH', { field, min, max, got: length })
  return value
}
