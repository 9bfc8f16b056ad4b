/**
 * GraphQL-over-HTTP content negotiation: answer `application/graphql-response+json` when the
 * client prefers it, `application/json` otherwise (and when no Accept is sent); 406 when the
 * Accept header allows neither.
 */
export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json; charset=utf-8'
export const JSON_MEDIA_TYPE = 'application/json; charset=utf-8'

/** The content type to answer with, or undefined when nothing acceptable is offered. */
export function negotiateMediaType (accept: string | undefined): string | undefined {
  if (accept === undefined || accept === '') return JSON_MEDIA_TYPE
  // Clients send the same few Accept headers again and again, and reading one splits it into
  // several arrays and strings (every request pays it): the first KNOWN_ACCEPT_LIMIT distinct
  // values of a sane length keep their answer; others are read every time: the memo is bounded.
  const known = knownAccept.get(accept)
  if (known !== undefined) return known ?? undefined
  const offer = readAccept(accept)
  if (knownAccept.size < KNOWN_ACCEPT_LIMIT && accept.length <= KNOWN_ACCEPT_MAX_LENGTH) knownAccept.set(accept, offer ?? null)
  return offer
}

/**
 * True when the client names `application/json` and not `application/graphql-response+json`
 * (nor a wildcard that covers it): GraphQL-over-HTTP's legacy client. No Accept header is not
 * such a client: it gets the current rules.
 */
export function acceptsOnlyJson (accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return false
  let json = false
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.split(';')
    const type = rawType.trim().toLowerCase()
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (qParam !== undefined && !(Number(qParam.slice(2)) > 0)) continue
    if (type === 'application/json') json = true
    else if (type === 'application/graphql-response+json' || type === 'application/*' || type === '*/*') return false
  }
  return json
}

// Private:

const KNOWN_ACCEPT_LIMIT = 64
const KNOWN_ACCEPT_MAX_LENGTH = 256
/** Accept header → its answer (null: nothing acceptable). */
const knownAccept = new Map<string, string | null>()

function readAccept (accept: string): string | undefined {
  let best: string | undefined
  let bestQuality = 0
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.split(';')
    const type = rawType.trim().toLowerCase()
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const quality = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!(quality > 0)) continue
    const offer = type === 'application/graphql-response+json'
      ? GRAPHQL_RESPONSE_JSON
      : type === 'application/json' || type === 'application/*' || type === '*/*' ? JSON_MEDIA_TYPE : undefined
    // Ties keep the earlier entry: the client listed its preference first.
    if (offer !== undefined && quality > bestQuality) {
      best = offer
      bestQuality = quality
    }
  }
  return best
}
