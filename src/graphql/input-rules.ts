/**
 * The input limits, each a BAD_USER_INPUT naming the field. Checked in resolvers before any
 * SQL runs; the tests cover each limit on both sides. Every string that reaches SQL passes
 * `storable`: PostgreSQL text cannot hold NUL, and an unpaired surrogate would be stored as
 * U+FFFD, silently not what was sent.
 */
import { badInput } from '../errors.ts'
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
  if (first < 0 || first > limits.firstMax) throw badInput(field, `must be between 0 and ${limits.firstMax}, got ${first}`)
  return { first, after: args.after == null ? null : id(args.after, 'after') }
}

export function id (value: string, field = 'id'): string {
  if (!ID.test(value)) throw badInput(field, `must be a positive integer id, got ${JSON.stringify(value.slice(0, 40))}`)
  return value
}

export function title (value: string): string {
  return chars(value, 'title', 1, limits.titleMaxChars)
}

export function body (value: string): string {
  storable(value, 'body')
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > limits.bodyMaxBytes) throw badInput('body', `must be at most ${limits.bodyMaxBytes} bytes, got ${bytes}`)
  return value
}

export function tagNames (values: readonly string[]): string[] {
  if (values.length > limits.tagsMax) throw badInput('tags', `at most ${limits.tagsMax} tags, got ${values.length}`)
  const names = values.map((value) => chars(value, 'tags', 1, limits.tagMaxChars))
  return [...new Set(names)]
}

export function name (value: string): string {
  return chars(value.trim(), 'name', 1, limits.nameMaxChars)
}

export function email (value: string): string {
  const trimmed = storable(value, 'email').trim()
  if (trimmed.length > limits.emailMaxChars || !EMAIL.test(trimmed)) throw badInput('email', 'must be a valid email address')
  return trimmed
}

/** A login's email: only what can be looked up (a malformed one simply matches no account). */
export function loginEmail (value: string): string {
  const trimmed = storable(value, 'email').trim()
  if (trimmed.length > limits.emailMaxChars) throw badInput('email', `must be at most ${limits.emailMaxChars} characters`)
  return trimmed
}

/** Refuses what PostgreSQL text cannot store as sent: NUL, and unpaired surrogates. */
export function storable (value: string, field: string): string {
  if (value.includes('\u0000')) throw badInput(field, 'must not contain NUL (\\u0000) characters')
  if (UNPAIRED_SURROGATE.test(value)) throw badInput(field, 'must not contain unpaired surrogates (not valid UTF-16)')
  return value
}

export function password (value: string): string {
  return chars(value, 'password', limits.passwordMinChars, limits.passwordMaxChars)
}

// Private:

function chars (value: string, field: string, min: number, max: number): string {
  storable(value, field)
  const length = [...value].length // code points, not UTF-16 units
  if (length < min || length > max) throw badInput(field, `must be ${min} to ${max} characters, got ${length}`)
  return value
}
