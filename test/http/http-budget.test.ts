/**
 * The HTTP budget's last line (src/http/request-deadline.ts): a request still unanswered
 * when HTTP_TIMEOUT_MS runs out is answered 504 TIMEOUT right then, whatever holds it up, and
 * a request answered within the budget is never touched by it.
 *
 * Over real HTTP with a raw socket, so the test controls when the body arrives: a client that
 * stalls in the middle of its body holds the request before GraphQL runs, where no GraphQL or
 * SQL budget reaches it, and the socket shows everything the server ever writes back.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { assertCatalogueError } from '../helpers/catalogue.ts'
import { metricSum } from '../helpers/metrics.ts'

// Budgets long enough that a pause of the machine (GC, a busy neighbour) does not decide a test.
const HTTP_TIMEOUT_MS = 1000
const QUERY = JSON.stringify({ query: '{ notes { id } }' })

let t: TestApp
let port: number

before(async () => {
  t = await startTestApp({ httpTimeoutMs: HTTP_TIMEOUT_MS, graphqlTimeoutMs: 800, dbTimeoutMs: 600, cacheEnabled: false })
  port = Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port)
})
after(() => t.close())

test('a request held up past the HTTP budget is answered 504 TIMEOUT at the budget, and the server answers the next one', async () => {
  const client = await openConnection()
  try {
    const started = performance.now()
    client.socket.write(requestHead(QUERY.length) + QUERY.slice(0, 5)) // then the body stalls
    const response = await client.nextResponse()
    const ms = performance.now() - started
    assert.equal(response.status, 504)
    assert.match(response.headers['content-type'] ?? '', /^application\/json/)
    // Exactly the catalogue's error: no stack, no internal message, no data.
    const body = JSON.parse(response.body)
    assertCatalogueError('TIMEOUT', { status: response.status, body }, { layer: 'http' })
    assert.deepEqual(Object.keys(body), ['errors'])
    assert.ok(ms >= HTTP_TIMEOUT_MS - 5, `not before the budget: ${Math.round(ms)} ms`)
    assert.ok(ms < HTTP_TIMEOUT_MS + 1000, `at the budget, not at a later one: ${Math.round(ms)} ms`)
  } finally {
    client.socket.destroy()
  }

  const next = await t.gql('{ notes { id } }')
  assert.equal(next.status, 200)
  assert.deepEqual(next.body, { data: { notes: [] } })
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' })
  assert.match(metrics.body, /^jotter_timeouts_total\{layer="http"\} 1$/m, 'counted once, as the HTTP layer')
})

test('a request answered within the HTTP budget is not touched when the budget later runs out', async () => {
  const timeoutsBefore = httpTimeouts(await t.app.inject({ method: 'GET', url: '/metrics' }))
  const client = await openConnection()
  try {
    // Slow but in time: half the body now, the rest at a third of the budget.
    client.socket.write(requestHead(QUERY.length) + QUERY.slice(0, 5))
    await sleep(HTTP_TIMEOUT_MS / 3)
    client.socket.write(QUERY.slice(5))
    const response = await client.nextResponse()
    assert.equal(response.status, 200, response.body)
    assert.deepEqual(JSON.parse(response.body), { data: { notes: [] } })

    // Past the budget of that request: nothing more is written on the connection.
    await sleep(HTTP_TIMEOUT_MS + 100)
    assert.equal(client.unread(), '', 'no second answer after the first')
    assert.equal(client.socket.destroyed, false, 'the connection is still open')
    client.socket.write(requestHead(QUERY.length) + QUERY)
    assert.equal((await client.nextResponse()).status, 200, 'and it serves the next request')
  } finally {
    client.socket.destroy()
  }
  assert.equal(httpTimeouts(await t.app.inject({ method: 'GET', url: '/metrics' })), timeoutsBefore, 'no timeout counted')
})

test('work the signal does not reach, finishing after the last line answered, sends nothing more and logs no second answer', async () => {
  const logged: Array<{ msg: string, statusCode?: number, err?: { code?: string } }> = []
  const own = await startTestApp({ httpTimeoutMs: HTTP_TIMEOUT_MS, graphqlTimeoutMs: 800, dbTimeoutMs: 600, cacheEnabled: false, logLevel: 'warn' },
    { logDestination: { write: (line: string) => { logged.push(JSON.parse(line)) } } })
  try {
    // A resolver that ignores its deadline and outlives the HTTP budget.
    let resolverDone = (): void => {}
    const resolverFinished = new Promise<void>((resolve) => { resolverDone = resolve })
    own.app.graphql.defineResolvers({ Query: { notes: async () => { await sleep(HTTP_TIMEOUT_MS + 150); resolverDone(); return [] } } })
    const answer = await own.gql('{ notes { id } }')
    assert.equal(answer.status, 504)
    assert.equal(answer.body.errors?.[0].extensions?.code, 'TIMEOUT')
    await resolverFinished
    await sleep(100) // its handler returns
    assert.deepEqual(logged.filter((line) => line.err !== undefined).map((line) => line.err?.code), [], 'no error or warning logged for the late answer')
    assert.deepEqual(logged.filter((line) => line.msg === 'request completed').map((line) => line.statusCode), [504], 'one request, one line, the 504')
  } finally {
    await own.close()
  }
})

// Private:

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

function requestHead (contentLength: number): string {
  return `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`
}

/** A keep-alive connection that parses the responses written to it, in order (each waited for at most 5 s). */
async function openConnection (): Promise<{ socket: Socket, nextResponse (): Promise<RawResponse>, unread (): string }> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.setEncoding('utf8')
  let buffered = ''
  let wake = (): void => {}
  socket.on('data', (text: string) => { buffered += text; wake() })
  socket.on('close', () => wake())

  function takeResponse (): RawResponse | undefined {
    const headEnd = buffered.indexOf('\r\n\r\n')
    if (headEnd < 0) return undefined
    const [statusLine, ...headerLines] = buffered.slice(0, headEnd).split('\r\n')
    const headers = Object.fromEntries(headerLines.map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
    }))
    const length = Number(headers['content-length'])
    // The app answers with a content-length (small JSON bodies, ASCII here).
    if (buffered.length < headEnd + 4 + length) return undefined
    const body = buffered.slice(headEnd + 4, headEnd + 4 + length)
    buffered = buffered.slice(headEnd + 4 + length)
    return { status: Number(statusLine.split(' ')[1]), headers, body }
  }

  return {
    socket,
    async nextResponse () {
      const giveUpAt = performance.now() + 5000
      for (;;) {
        const response = takeResponse()
        if (response) return response
        if (socket.destroyed) throw new Error(`connection closed before a whole response: ${JSON.stringify(buffered)}`)
        if (performance.now() >= giveUpAt) throw new Error(`no whole response within 5000 ms: ${JSON.stringify(buffered)}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, giveUpAt - performance.now())
          wake = () => { clearTimeout(timer); resolve() }
        })
      }
    },
    unread: () => buffered
  }
}

function httpTimeouts (metrics: { body: string }): number {
  return metricSum(metrics.body, 'jotter_timeouts_total', { layer: 'http' })
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
