/**
 * Log lines: JSON for machines, pino-pretty for a person at a terminal (LOG_FORMAT=auto picks
 * by the output's isTTY), secrets redacted either way. The last two tests run a real process
 * with stdout a pipe, then a real pseudo-terminal (util-linux `script`).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import type { Config } from '../../src/config.ts'
import { createLogger } from '../../src/observability/logger.ts'

const ANSI_COLOUR = /\u001b\[\d+(;\d+)*m/ // eslint-disable-line no-control-regex
const SECRET = 'hunter2-secret-token'

function capture (terminal: boolean): { stream: Writable & { isTTY?: boolean }, output: () => Promise<string> } {
  const chunks: string[] = []
  const stream: Writable & { isTTY?: boolean } = new Writable({ write (chunk, _encoding, done) { chunks.push(String(chunk)); done() } })
  if (terminal) stream.isTTY = true
  return {
    stream,
    async output () {
      // pino-pretty formats in a stream of its own: its line arrives a tick later.
      for (let i = 0; i < 100 && chunks.length === 0; i++) await sleep(5)
      return chunks.join('')
    }
  }
}

async function logOneLine (logFormat: Config['logFormat'], terminal: boolean): Promise<string> {
  const { stream, output } = capture(terminal)
  createLogger({ logLevel: 'info', logFormat }, stream).info({ token: SECRET, noteId: 42 }, 'note saved')
  return output()
}

test('auto, not a terminal: one JSON line, token redacted', async () => {
  const line = await logOneLine('auto', false)
  const entry = JSON.parse(line)
  assert.equal(entry.msg, 'note saved')
  assert.equal(entry.level, 30)
  assert.equal(entry.noteId, 42)
  assert.equal(entry.token, '[redacted]')
})

test('auto, a terminal: a coloured human-readable line, token redacted', async () => {
  const text = await logOneLine('auto', true)
  assert.throws(() => JSON.parse(text), 'not JSON')
  assert.match(text, ANSI_COLOUR)
  const plain = text.replace(new RegExp(ANSI_COLOUR, 'g'), '')
  assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): note saved\n/)
  assert.match(plain, /noteId: 42/)
  assert.match(plain, /token: "\[redacted\]"/)
  assert.ok(!text.includes(SECRET), 'the secret is not printed')
})

test('json on a terminal stays JSON; pretty on a pipe is readable without colour codes', async () => {
  assert.equal(JSON.parse(await logOneLine('json', true)).msg, 'note saved')
  const pretty = await logOneLine('pretty', false)
  assert.match(pretty, /INFO \(\d+\): note saved/)
  assert.doesNotMatch(pretty, ANSI_COLOUR)
})

const LOG_FROM_A_PROCESS = [
  "import { createLogger } from './src/observability/logger.ts'",
  `createLogger({ logLevel: 'info', logFormat: 'auto' }).info({ token: '${SECRET}' }, 'hello from a process')`
].join('\n')
const nodeArgs = ['--import', 'tsx', '--input-type=module', '-e', LOG_FROM_A_PROCESS]

test('a real process whose stdout is a pipe writes JSON', () => {
  const result = spawnSync(process.execPath, nodeArgs, { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 0, result.stderr)
  const entry = JSON.parse(result.stdout)
  assert.equal(entry.msg, 'hello from a process')
  assert.equal(entry.token, '[redacted]')
})

const haveScript = spawnSync('script', ['--version']).status === 0
test('a real process on a terminal writes pretty lines', { skip: haveScript ? false : 'util-linux `script` not found: cannot give the process a terminal' }, () => {
  const command = [process.execPath, ...nodeArgs].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ')
  // script runs the command on a new pseudo-terminal and copies what it prints to our stdout.
  const result = spawnSync('script', ['--quiet', '--return', '--command', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 0, result.stdout + result.stderr)
  const plain = result.stdout.replace(new RegExp(ANSI_COLOUR, 'g'), '')
  assert.match(result.stdout, ANSI_COLOUR, 'coloured')
  assert.match(plain, /INFO \(\d+\): hello from a process/)
  assert.ok(!result.stdout.includes(SECRET), 'the secret is not printed')
  assert.doesNotMatch(plain, /^\{"level"/m, 'no JSON line')
})
