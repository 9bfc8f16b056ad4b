/**
 * The catalogue's errors as a client sees them. Error names are not on the wire, so a test that
 * speaks of an error by name gets it here, where the whole error (message, extensions, and the
 * status when it fails the whole request) is compared with what `apiError` makes.
 * test/errors-catalogue.test.ts counts an error as walked by a test file that names it here.
 */
import assert from 'node:assert/strict'
import { apiError, formattedError, type ApiError, type ErrorName } from '../../src/errors.ts'

export interface AnsweredError { status: number, body: { data?: unknown, errors?: ReadonlyArray<Record<string, unknown>> } }

/** Asserts that the first error answered is the catalogue's `name` with `values` in its message. */
export function assertCatalogueError (name: ErrorName, answered: AnsweredError, values?: Record<string, unknown>): void {
  const expected = catalogueError(name, values)
  const error = answered.body.errors?.[0]
  assert.ok(error !== undefined, `${name}: no error answered: ${JSON.stringify(answered.body)}`)
  assert.deepEqual(withoutPosition(error), formattedError(expected), `${name}: ${JSON.stringify(answered.body)}`)
  if (answered.body.errors!.length === 1 && !('data' in answered.body)) assert.equal(answered.status, expected.statusCode, `${name}: status`)
}

/** apiError with its values checked at run time, for tests that name many errors. */
export const catalogueError = apiError as (name: ErrorName, values?: Record<string, unknown>) => ApiError

// Private:

function withoutPosition (error: Record<string, unknown>): Record<string, unknown> {
  const { locations: _locations, path: _path, ...rest } = error
  return rest
}
