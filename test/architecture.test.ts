/**
 * The layer rule of docs/architecture.md, checked where `npm run lint` checks it: an import
 * that points up fails eslint (import-x/no-restricted-paths), and so does a circle — of values
 * (import-x/no-cycle) or of types only (scripts/check-import-cycles.ts). Each is shown failing on
 * a file written for it, and src/ as it is passes. Around src/, bench/ importing test/ fails the
 * same way (what they share lives in tools/).
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { after, describe, test } from 'node:test'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { findImportCycles } from '../scripts/check-import-cycles.ts'

const root = join(import.meta.dirname, '..')

describe('imports point down', () => {
  // A child process: eslint's own module resolution, not the test runner's loader.
  const eslintBin = join(createRequire(import.meta.url).resolve('eslint/package.json'), '..', 'bin', 'eslint.js')
  const probes: string[] = []
  after(async () => { for (const probe of probes) await rm(probe, { recursive: true, force: true }) })

  /** Lint messages of `files`, written in a folder of their own under `folder` (from the root). */
  async function lintProbe (folder: string, files: Record<string, string>): Promise<string[]> {
    const dir = join(root, folder, `layer-probe-${process.pid}`)
    probes.push(dir)
    await mkdir(dir, { recursive: true })
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
    const { stdout } = await promisify(execFile)(process.execPath, [eslintBin, '--format', 'json', ...Object.keys(files).map((name) => join(dir, name))], { cwd: root })
      .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '[]' }))
    const results = JSON.parse(stdout) as Array<{ messages: Array<{ ruleId: string | null, message: string }> }>
    return results.flatMap((result) => result.messages.map((message) => message.ruleId ?? message.message))
  }

  test('an import from a layer above fails lint; one from below passes', async () => {
    assert.deepEqual(await lintProbe('src/db', { 'up.ts': "import type { Loaders } from '../../loaders/loaders.ts'\nexport type Up = Loaders\n" }), ['import-x/no-restricted-paths'])
    assert.deepEqual(await lintProbe('src/loaders', { 'down.ts': "import type { Database } from '../../db/gateway.ts'\nexport type Down = Database\n" }), [])
  })

  test('a circle of values fails lint', async () => {
    const rules = await lintProbe('src/deadline', {
      'a.ts': "import { b } from './b.ts'\nexport const a = (): unknown => b\n",
      'b.ts': "import { a } from './a.ts'\nexport const b = (): unknown => a\n"
    })
    assert.deepEqual(rules, ['import-x/no-cycle', 'import-x/no-cycle'])
  })

  test('bench/ importing a test helper fails lint; importing it from tools/ passes', async () => {
    assert.deepEqual(await lintProbe('bench', { 'borrow.ts': "import { createTestDatabase } from '../../test/helpers/database.ts'\nexport const borrowed = createTestDatabase\n" }), ['import-x/no-restricted-paths'])
    assert.deepEqual(await lintProbe('bench', { 'shared.ts': "import { openThrowawayDatabase } from '../../tools/throwaway-database.ts'\nexport const shared = openThrowawayDatabase\n" }), [])
  })
})

describe('no import circles, types included', () => {
  const folders: string[] = []
  after(async () => { for (const folder of folders) await rm(folder, { recursive: true, force: true }) })

  test('a circle of type-only imports is found; a chain is not', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'import-cycles-'))
    folders.push(folder)
    await writeFile(join(folder, 'a.ts'), "import type { B } from './b.ts'\nexport type A = B | number\n")
    await writeFile(join(folder, 'b.ts'), "import type { A } from './a.ts'\nexport type B = A[]\n")
    await writeFile(join(folder, 'c.ts'), "import type { A } from './a.ts'\nexport type C = A\n")
    const cycles = findImportCycles(folder)
    assert.equal(cycles.length, 1)
    assert.deepEqual(cycles[0].map((file) => file.slice(folder.length + 1)), ['a.ts', 'b.ts', 'a.ts'])
  })

  test('src/ has none', () => {
    assert.deepEqual(findImportCycles(join(root, 'src')), [])
  })
})
