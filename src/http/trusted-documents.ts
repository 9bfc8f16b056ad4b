/**
 * TRUSTED_DOCUMENTS_FILE: the only documents a deployment runs, read and checked once at start.
 *
 * Two manifest formats, told apart by their shape:
 *  - GraphQL Code Generator's client preset (`persistedDocuments: { hashAlgorithm: 'sha256' }`):
 *    `{ "<sha256 hex>": "<document>" }`;
 *  - Apollo's persisted-query manifest (`@apollo/generate-persisted-query-manifest`):
 *    `{ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id, name, type, body }] }`.
 *
 * Every entry must hash to its key (SHA-256 of the text, lowercase hex: what clients send in
 * `extensions.persistedQuery.sha256Hash`), parse within MAX_TOKENS and validate against the
 * schema with the same rules requests get (the query limits included). The first that does
 * not stops the start with a ConfigError naming the file, the entry and the reason: a
 * manifest that cannot run is a deployment mistake, better found before the first request.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { buildSchema, Kind, parse, specifiedRules, validate, type DocumentNode, type ValidationRule } from 'graphql'
import { ConfigError } from '../config.ts'

export interface TrustedDocument {
  /** SHA-256 of `text`, lowercase hex. */
  readonly hash: string
  readonly text: string
  /** The manifest's name, else the document's single operation name; null for neither. */
  readonly name: string | null
}

export interface TrustedDocuments {
  readonly byHash: ReadonlyMap<string, TrustedDocument>
  /** Keyed by the exact text: a client may send the listed text itself instead of its hash. */
  readonly byText: ReadonlyMap<string, TrustedDocument>
}

export interface TrustedDocumentsOptions {
  typeDefs: string
  maxTokens: number
  /** Added to graphql-js' specified rules: what Mercurius validates requests with. */
  validationRules: readonly ValidationRule[]
}

export function loadTrustedDocuments (file: string, options: TrustedDocumentsOptions): TrustedDocuments {
  let raw: string
  try {
    raw = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`TRUSTED_DOCUMENTS_FILE cannot be read: ${(error as Error).message}`)
  }
  let manifest: unknown
  try {
    manifest = JSON.parse(raw)
  } catch (error) {
    throw new ConfigError(`TRUSTED_DOCUMENTS_FILE ${file} is not valid JSON: ${(error as Error).message}`)
  }
  return checkedDocuments(file, manifestEntries(file, manifest), options)
}

export function sha256Hex (text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

// Private:

const SHA256_HEX = /^[0-9a-f]{64}$/

interface ManifestEntry {
  /** How the error names the entry: its key or its position and name. */
  label: string
  hash: unknown
  text: unknown
  name: string | null
}

function manifestEntries (file: string, manifest: unknown): ManifestEntry[] {
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new ConfigError(`TRUSTED_DOCUMENTS_FILE ${file} must hold a JSON object: { "<sha256>": "<document>" } or an Apollo persisted-query manifest`)
  }
  const record = manifest as Record<string, unknown>
  if (!('format' in record)) {
    return Object.entries(record).map(([hash, text]) => ({ label: `entry "${hash}"`, hash, text, name: null }))
  }
  if (record.format !== 'apollo-persisted-query-manifest' || record.version !== 1 || !Array.isArray(record.operations)) {
    throw new ConfigError(`TRUSTED_DOCUMENTS_FILE ${file}: a manifest with "format" must be { format: "apollo-persisted-query-manifest", version: 1, operations: [...] }: got format ${JSON.stringify(record.format)}, version ${JSON.stringify(record.version)}`)
  }
  return record.operations.map((operation: unknown, index: number) => {
    const { id, name, body } = (operation ?? {}) as Record<string, unknown>
    const label = `operations[${index}]${typeof name === 'string' ? ` (${name})` : ''}`
    return { label, hash: id, text: body, name: typeof name === 'string' && name !== '' ? name : null }
  })
}

function checkedDocuments (file: string, entries: ManifestEntry[], options: TrustedDocumentsOptions): TrustedDocuments {
  const schema = buildSchema(options.typeDefs)
  const rules = [...specifiedRules, ...options.validationRules]
  const byHash = new Map<string, TrustedDocument>()
  const byText = new Map<string, TrustedDocument>()
  for (const { label, hash, text, name } of entries) {
    const where = `TRUSTED_DOCUMENTS_FILE ${file}, ${label}`
    if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
      throw new ConfigError(`${where}: the id must be a SHA-256 hash in lowercase hex (64 characters; GraphQL Code Generator: persistedDocuments.hashAlgorithm 'sha256'): got ${JSON.stringify(hash)}`)
    }
    if (typeof text !== 'string' || text.trim() === '') throw new ConfigError(`${where}: the document must be non-empty text: got ${JSON.stringify(text)}`)
    const actual = sha256Hex(text)
    if (actual !== hash) throw new ConfigError(`${where}: the document's SHA-256 is ${actual}, not its id ${hash}`)
    let document: DocumentNode
    try {
      document = parse(text, { maxTokens: options.maxTokens, noLocation: true })
    } catch (error) {
      throw new ConfigError(`${where}: the document does not parse (MAX_TOKENS is ${options.maxTokens}): ${(error as Error).message}`)
    }
    const errors = validate(schema, document, rules)
    if (errors.length > 0) throw new ConfigError(`${where}: the document does not validate: ${errors.map((error) => error.message).join(' ')}`)
    const trusted: TrustedDocument = Object.freeze({ hash, text, name: name ?? singleOperationName(document) })
    byHash.set(hash, trusted)
    byText.set(text, trusted)
  }
  return { byHash, byText }
}

function singleOperationName (document: DocumentNode): string | null {
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION)
  return operations.length === 1 ? operations[0].name?.value ?? null : null
}
