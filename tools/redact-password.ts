/**
 * tools/: the dev tooling bench/, scripts/ and test/ share, so that none of them borrows
 * from test/ (lint forbids it); src/, the product, never imports tools/.
 *
 * A database URL with its password starred out, for lines a person or a report reads.
 */

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; a URL without a password as it is. */
export function redactPassword (url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}
