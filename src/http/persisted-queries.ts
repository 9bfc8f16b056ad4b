/**
 * Persisted queries on the GraphQL routes: automatic persisted queries (APQ, the
 * `extensions.persistedQuery = { version: 1, sha256Hash }` protocol) always, and, with
 * TRUSTED_DOCUMENTS_FILE, trusted documents: only the manifest's documents run.
 *
 * The first preHandler of the routes gives a hash-only request its document (and takes the
 * `persistedQuery` extension off it), before anything reads the text: so the request check,
 * the response cache (keyed on the document, whether the client sent its text or its hash)
 * and Mercurius' parsed-document cache all see the plain request they would for the text.
 * With trusted documents it is also the gate: a document not in the manifest is refused here,
 * before anything parses it.
 *
 * What stays on a request is an APQ registration (the text with its hash, not stored yet):
 * Mercurius' own persistedQueryProvider checks the hash and saves the document once it has
 * parsed, validated and run it, so a document over a query limit (or invalid) is never stored.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { ValidationRule } from 'graphql'
import type { PersistedQueryProvider } from 'mercurius'
import { Counter, type Registry } from 'prom-client'
import type { Config } from '../config.ts'
import { apiError } from '../errors.ts'
import { typeDefs } from '../graphql/schema.ts'
import { PERSISTED_DOCUMENT, type PersistedDocumentName } from '../observability/operation-label.ts'
import { createPersistedQueryStore, type PersistedQueryStore } from './persisted-query-store.ts'
import { loadTrustedDocuments, sha256Hex, type TrustedDocuments } from './trusted-documents.ts'

export interface PersistedQueries {
  /** Goes first among the GraphQL routes' preHandlers. Callback style: no promise unless Redis is asked. */
  preHandler (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void
  /** Mercurius' persistedQueryProvider: stores APQ registrations; undefined with trusted documents (nothing is registered). */
  readonly provider: PersistedQueryProvider | undefined
  /**
   * Mercurius' parsed-document cache size (its `cache` option): every listed document fits,
   * so each is parsed and validated once and compiled by graphql-jit once, never evicted.
   */
  readonly documentCacheSize: number
  close (): Promise<void>
}

export type RefusalReason = 'not_found' | 'not_trusted' | 'hash_mismatch' | 'malformed'

export interface PersistedQueriesOptions {
  config: Pick<Config, 'trustedDocumentsFile' | 'persistedQueriesMaxBytes' | 'maxTokens' | 'redisUrl' | 'redisCommandTimeoutMs'>
  /** Redis keys' namespace: DEPLOYMENT_ID, or the database's identity once it answers. */
  deploymentId: string | Promise<string>
  /** The rules Mercurius validates with, besides graphql-js' own: a listed document is checked with them at start. */
  validationRules: readonly ValidationRule[]
  registry: Registry
  log: FastifyBaseLogger
}

/** Mercurius' default size of its parsed-document cache. */
const MERCURIUS_DOCUMENT_CACHE_SIZE = 1024

export async function createPersistedQueries ({ config, deploymentId, validationRules, registry, log }: PersistedQueriesOptions): Promise<PersistedQueries> {
  const refused = new Counter({
    name: 'jotter_persisted_queries_refused_total',
    help: 'Requests refused by persisted queries before anything ran, by reason: not_found (unknown APQ hash), not_trusted (not in TRUSTED_DOCUMENTS_FILE), hash_mismatch, malformed (a bad extensions.persistedQuery).',
    labelNames: ['reason'] as const,
    registers: [registry]
  })
  for (const reason of ['not_found', 'not_trusted', 'hash_mismatch', 'malformed'] satisfies RefusalReason[]) refused.inc({ reason }, 0)
  const refuse = (reason: RefusalReason, error: Error): Error => {
    refused.inc({ reason })
    return error
  }

  if (config.trustedDocumentsFile !== undefined) {
    const trusted = loadTrustedDocuments(config.trustedDocumentsFile, { typeDefs, maxTokens: config.maxTokens, validationRules })
    log.info({ documents: trusted.byHash.size, file: config.trustedDocumentsFile }, 'trusted documents: only these run')
    return {
      preHandler: createTrustedGate(trusted, refuse),
      provider: undefined,
      documentCacheSize: Math.max(MERCURIUS_DOCUMENT_CACHE_SIZE, trusted.byHash.size),
      close: async () => {}
    }
  }

  const store = await createPersistedQueryStore({
    maxBytes: config.persistedQueriesMaxBytes,
    redis: config.redisUrl === undefined ? undefined : { url: config.redisUrl, commandTimeoutMs: config.redisCommandTimeoutMs, namespace: deploymentId },
    log
  })
  return {
    preHandler: createAutomaticResolver(store, refuse),
    provider: {
      // A hash-only request reaches Mercurius with its document already (the preHandler).
      isPersistedQuery: () => false,
      isPersistedQueryRetry: (body) => typeof body.query === 'string' && (body.extensions as Extensions | undefined)?.persistedQuery !== undefined,
      getHash: (body) => ((body.extensions as Extensions).persistedQuery as { sha256Hash: string }).sha256Hash,
      getQueryFromHash: async (hash) => store.local(hash),
      getHashForQuery: sha256Hex,
      saveQuery: (hash, text) => store.save(hash, text)
    },
    documentCacheSize: MERCURIUS_DOCUMENT_CACHE_SIZE,
    close: () => store.close()
  }
}

// Private:

type Extensions = Record<string, unknown>
type Operation = Record<string | symbol, unknown>
type Refuse = (reason: RefusalReason, error: Error) => Error
/** Resolves one operation of a request; a promise only when it waits on Redis; throws a refusal. */
type ResolveOperation = (operation: Operation, get: boolean) => Promise<void> | undefined

const SHA256_HEX = /^[0-9a-f]{64}$/

function createAutomaticResolver (store: PersistedQueryStore, refuse: Refuse) {
  const notFound = (): Error => refuse('not_found', apiError('PERSISTED_QUERY_UNKNOWN'))
  return forEachOperation((operation, get) => {
    const persisted = persistedQueryOf(operation, get, refuse)
    if (persisted === undefined) return undefined
    const { query } = operation
    if (query === undefined || query === null || query === '') {
      const text = store.local(persisted.hash)
      if (text !== undefined) return useDocument(operation, get, persisted, text, nameOf(persisted.hash, null))
      return store.shared(persisted.hash).then((shared) => {
        if (shared === undefined) throw notFound()
        useDocument(operation, get, persisted, shared, nameOf(persisted.hash, null))
      })
    }
    if (typeof query !== 'string') return undefined
    checkHash(query, persisted.hash, refuse)
    // Stored already: nothing to register; the request is the text alone (and may be a cache hit).
    if (store.local(persisted.hash) !== undefined) return useDocument(operation, get, persisted, query, nameOf(persisted.hash, null))
    operation[PERSISTED_DOCUMENT] = nameOf(persisted.hash, null)
    return undefined
  })
}

function createTrustedGate (trusted: TrustedDocuments, refuse: Refuse) {
  return forEachOperation((operation, get) => {
    const persisted = persistedQueryOf(operation, get, refuse)
    const { query } = operation
    if (query === undefined || query === null || query === '') {
      // Neither text nor hash: not a document; the request check answers "Missing query".
      if (persisted === undefined) return undefined
      const listed = trusted.byHash.get(persisted.hash)
      if (listed === undefined) throw refuse('not_trusted', apiError('DOCUMENT_HASH_NOT_LISTED'))
      return useDocument(operation, get, persisted, listed.text, listed)
    }
    const listed = typeof query === 'string' ? trusted.byText.get(query) : undefined
    if (listed === undefined) throw refuse('not_trusted', apiError('DOCUMENT_NOT_LISTED'))
    if (persisted !== undefined && persisted.hash !== listed.hash) throw hashMismatch(refuse)
    return useDocument(operation, get, persisted, listed.text, listed)
  })
}

/** The preHandler over a request's operations (one, or a batch's). */
function forEachOperation (resolve: ResolveOperation) {
  return function resolvePersistedQueries (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    const get = request.method === 'GET'
    const source = get ? request.query : request.body
    let waiting: Promise<void> | Array<Promise<void> | undefined> | undefined
    try {
      // A malformed body is not ours to judge: the request check answers it.
      if (Array.isArray(source)) waiting = source.map((operation) => isOperation(operation) ? resolve(operation, get) : undefined)
      else if (isOperation(source)) waiting = resolve(source, get)
    } catch (error) {
      return done(error as Error)
    }
    if (waiting === undefined) return done()
    Promise.all(Array.isArray(waiting) ? waiting : [waiting]).then(() => done(), done)
  }
}

interface PersistedQuery {
  hash: string
  /** The request's extensions, parsed (GET sends them as JSON text). */
  extensions: Extensions
}

/** The request's `extensions.persistedQuery`, checked; undefined when it has none. */
function persistedQueryOf (operation: Operation, get: boolean, refuse: Refuse): PersistedQuery | undefined {
  let extensions = operation.extensions
  if (get) {
    // Most GET requests carry no extensions: only a text naming the key is parsed.
    if (typeof extensions !== 'string' || !extensions.includes('persistedQuery')) return undefined
    try {
      extensions = JSON.parse(extensions)
    } catch {
      return undefined // the request check answers bad JSON
    }
  }
  if (extensions === null || typeof extensions !== 'object' || Array.isArray(extensions)) return undefined
  const persisted = (extensions as Extensions).persistedQuery
  if (persisted === undefined) return undefined
  const malformed = (message: string): Error => refuse('malformed', apiError('PERSISTED_QUERY_MALFORMED', { problem: message }))
  if (persisted === null || typeof persisted !== 'object' || Array.isArray(persisted)) throw malformed(`must be an object { version: 1, sha256Hash }: got ${JSON.stringify(persisted)}`)
  const { version, sha256Hash } = persisted as Record<string, unknown>
  if (version !== 1) throw malformed(`version must be 1: got ${String(JSON.stringify(version)).slice(0, 40)}`)
  if (typeof sha256Hash !== 'string' || !SHA256_HEX.test(sha256Hash)) {
    throw malformed(`sha256Hash must be a SHA-256 in lowercase hex (64 characters): got ${String(JSON.stringify(sha256Hash)).slice(0, 80)}`)
  }
  return { hash: sha256Hash, extensions: extensions as Extensions }
}

function checkHash (text: string, hash: string, refuse: Refuse): void {
  if (sha256Hex(text) !== hash) throw hashMismatch(refuse)
}

function hashMismatch (refuse: Refuse): Error {
  return refuse('hash_mismatch', apiError('PERSISTED_QUERY_HASH_MISMATCH', { field: 'extensions.persistedQuery.sha256Hash' }))
}

/** The operation becomes a plain request for `text`, named for metrics and logs by its persisted identity. */
function useDocument (operation: Operation, get: boolean, persisted: PersistedQuery | undefined, text: string, name: PersistedDocumentName): undefined {
  operation.query = text
  operation[PERSISTED_DOCUMENT] = name
  if (persisted !== undefined) {
    // Without its persistedQuery the request is no registration: Mercurius neither hashes nor saves it again.
    const { persistedQuery: _, ...rest } = persisted.extensions
    operation.extensions = Object.keys(rest).length === 0 ? undefined : get ? JSON.stringify(rest) : rest
  }
  return undefined
}

function nameOf (hash: string, name: string | null): PersistedDocumentName {
  return { hash, name }
}

function isOperation (value: unknown): value is Operation {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
