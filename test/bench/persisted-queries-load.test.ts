/**
 * The load generator's `persistedQueries` option: requests name their document by SHA-256 in
 * `extensions.persistedQuery` and carry the text only after PERSISTED_QUERY_NOT_FOUND, in the
 * planned mix, in a whole open-model run and in the one-at-a-time client, against a tiny local
 * server that speaks the APQ protocol.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { createGraphqlClient } from '../../bench/load/graphql-client.ts'
import { createRequestMix, defaultMixEntries, runOpenModelLoad, WRITE_QUERIES } from '../../bench/load/index.ts'
import type { Fixtures } from '../../bench/load/index.ts'

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')
const fixtures: Fixtures = { users: [{ id: '1', token: 'token-1', ownNotes: [{ id: '7', visibility: 'PUBLIC' }] }], userIds: ['1', '2'], noteIds: ['5', '6'] }

describe('the planned mix', () => {
  test('without the option, bodies are unchanged: the text, no extensions, no second body', () => {
    const mix = createRequestMix({ entries: defaultMixEntries, fixtures, writeShare: 0.5, random: sequence() })
    for (let i = 0; i < 20; i++) {
      const planned = mix.next()
      const body = JSON.parse(planned.body)
      assert.equal(typeof body.query, 'string')
      assert.equal(body.extensions, undefined)
      assert.equal(planned.documentBody, undefined)
    }
  })

  test('with it, reads and writes send the hash alone, and the same request with the text as documentBody', () => {
    const mix = createRequestMix({ entries: defaultMixEntries, fixtures, writeShare: 0.5, persistedQueries: true, random: sequence() })
    const known = new Set([...defaultMixEntries.map((entry) => entry.query), ...Object.values(WRITE_QUERIES)])
    const seen = new Set<string>()
    for (let i = 0; i < 60; i++) {
      const planned = mix.next()
      const body = JSON.parse(planned.body)
      const withDocument = JSON.parse(planned.documentBody!)
      assert.equal(body.query, undefined, planned.body)
      assert.ok(known.has(withDocument.query), withDocument.query)
      assert.deepEqual(body.extensions, { persistedQuery: { version: 1, sha256Hash: sha256(withDocument.query) } })
      assert.deepEqual(withDocument.extensions, body.extensions)
      assert.deepEqual(withDocument.variables, body.variables, 'the same ids in both bodies')
      seen.add(mix.operationNames[planned.operationIndex])
    }
    assert.ok(seen.has('noteDetail') && seen.has('createNote'), `reads and writes both planned: ${[...seen].join(', ')}`)
  })
})

describe('against an APQ server', () => {
  test('an open-model run: each document is sent after a NOT_FOUND, then hashes alone; every request succeeds', async () => {
    const server = await startApqServer()
    try {
      const result = await runOpenModelLoad({
        url: urlOf(server.http),
        rate: 200,
        durationSeconds: 1,
        connections: 8,
        metricsUrl: null,
        mix: createRequestMix({ entries: defaultMixEntries, fixtures, persistedQueries: true })
      })
      assert.equal(result.successRate, 1, JSON.stringify(result.errorsByType))
      assert.equal(result.requests.sent, 200)
      assert.equal(server.stored.size, defaultMixEntries.length)
      // A document travels only after its hash was refused: as many as were refused, no more.
      assert.equal(server.withDocument, server.notFound)
      assert.ok(server.notFound >= defaultMixEntries.length)
      assert.ok(server.hashOnly - server.notFound > 150, `most requests are a hash alone: ${server.hashOnly} hash-only, ${server.notFound} not found`)
    } finally {
      await server.close()
    }
  })

  test('the one-at-a-time client: the document once, after NOT_FOUND; then the hash alone', async () => {
    const server = await startApqServer()
    const client = createGraphqlClient({ url: urlOf(server.http), connections: 1, timeoutMs: 5000, persistedQueries: true })
    try {
      const query = '{ users { id } }'
      assert.deepEqual(await client.request(query, {}, null), { ok: true, data: { ok: true } })
      assert.deepEqual([server.hashOnly, server.notFound, server.withDocument], [1, 1, 1])
      assert.deepEqual(await client.request(query, {}, 'token'), { ok: true, data: { ok: true } })
      assert.deepEqual([server.hashOnly, server.notFound, server.withDocument], [2, 1, 1])
      assert.deepEqual([...server.stored.values()], [query])
    } finally {
      await client.close()
      await server.close()
    }
  })

  test('the client without the option sends the text and no extensions', async () => {
    const server = await startApqServer()
    const client = createGraphqlClient({ url: urlOf(server.http), connections: 1, timeoutMs: 5000 })
    try {
      assert.deepEqual(await client.request('{ users { id } }', {}, null), { ok: true, data: { ok: true } })
      assert.deepEqual([server.hashOnly, server.withDocument, server.textOnly], [0, 0, 1])
    } finally {
      await client.close()
      await server.close()
    }
  })
})

// Private:

/** Deterministic numbers in [0, 1) that cycle, so every operation gets picked. */
function sequence (): () => number {
  let next = 0
  return () => (next = (next + 0.137) % 1)
}

interface ApqServer {
  http: Server
  stored: Map<string, string>
  hashOnly: number
  notFound: number
  withDocument: number
  textOnly: number
  close (): Promise<void>
}

/** The APQ protocol as Jotter answers it: 400 PERSISTED_QUERY_NOT_FOUND for an unknown hash alone. */
async function startApqServer (): Promise<ApqServer> {
  const state = { stored: new Map<string, string>(), hashOnly: 0, notFound: 0, withDocument: 0, textOnly: 0 }
  const http = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => { text += chunk })
    request.on('end', () => {
      const body = JSON.parse(text) as { query?: string, extensions?: { persistedQuery?: { sha256Hash: string } } }
      const hash = body.extensions?.persistedQuery?.sha256Hash
      const send = (status: number, payload: unknown): void => { response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload)) }
      if (hash === undefined) {
        state.textOnly++
      } else if (body.query === undefined) {
        state.hashOnly++
        if (!state.stored.has(hash)) {
          state.notFound++
          return send(400, { errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] })
        }
      } else {
        state.withDocument++
        if (sha256(body.query) !== hash) return send(400, { errors: [{ message: 'mismatch', extensions: { code: 'BAD_USER_INPUT' } }] })
        state.stored.set(hash, body.query)
      }
      send(200, { data: { ok: true } })
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return Object.assign(state, {
    http,
    async close () {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })
}

function urlOf (server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
}
