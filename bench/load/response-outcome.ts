/**
 * Success or error type of one response, as the success rate and the "errors by type" table
 * count it: success is HTTP 200 with no `errors` in the body; otherwise the type is
 * "http <status>[ <code>]", "graphql <code>", "network <code or name>" or "timeout".
 */

/** Returns null for a success, else the error type. */
export function classifyResponse (statusCode: number, bodyText: string): string | null {
  if (statusCode === 200) {
    // Parsing every body would cost the generator more than the server; a key `"errors":`
    // cannot appear inside a JSON string (its quotes would be escaped), so this finds every
    // error response and parses only those.
    if (!bodyText.includes('"errors":')) return null
    const code = firstErrorCode(bodyText)
    return code === NO_ERRORS ? null : `graphql ${code}`
  }
  const code = firstErrorCode(bodyText)
  return code === NO_ERRORS || code === NO_CODE ? `http ${statusCode}` : `http ${statusCode} ${code}`
}

/** "network ECONNREFUSED", "network UND_ERR_SOCKET", ... */
export function classifyNetworkError (error: Error): string {
  const code = (error as Error & { code?: unknown }).code
  return `network ${typeof code === 'string' && code !== '' ? code : error.name}`
}

// Private:

const NO_ERRORS = ''
const NO_CODE = 'no-code'

/** errors[0].extensions.code, NO_CODE when errors has no code, NO_ERRORS when there are none. */
function firstErrorCode (bodyText: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(bodyText)
  } catch {
    return bodyText === '' ? NO_ERRORS : 'unparsable-body'
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors) || errors.length === 0) return NO_ERRORS
  const code = (errors[0] as { extensions?: { code?: unknown } } | null)?.extensions?.code
  return typeof code === 'string' && code !== '' ? code : NO_CODE
}
