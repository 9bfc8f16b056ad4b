/**
 * The README's configuration and error-code tables are exactly what `npm run docs:tables`
 * prints from the code (configOptions, errorCatalogue): a new option or error code fails this
 * test until the README shows it. And every section of docs/ that a comment points to
 * (`docs/<file>.md, "Section"`) is there, as is every file of the repository the README and
 * docs/ name.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { configurationTable, errorCodeTable } from '../scripts/docs-tables.ts'

const readme = 'README.md'
const skip = existsSync(readme) ? false : 'README.md does not exist yet (write its tables from `npm run docs:tables`)'

for (const [name, table] of [['configuration', configurationTable()], ['error-code', errorCodeTable()]] as const) {
  test(`README.md contains the ${name} table exactly as the code defines it`, { skip }, () => {
    const text = readFileSync(readme, 'utf8').replaceAll('\r\n', '\n')
    assert.ok(text.includes(table), `README.md is out of date: paste the ${name} table from \`npm run docs:tables\`:\n\n${table}`)
  })
}

test('the tables list every option and every code once', () => {
  const config = configurationTable().split('\n').slice(2)
  const errors = errorCodeTable().split('\n').slice(2)
  assert.ok(config.some((row) => row.startsWith('| `JWT_SECRET` | (unset) |')))
  assert.ok(errors.some((row) => row.startsWith('| `BAD_USER_INPUT` | 200 (field error) |')))
  assert.ok(errors.some((row) => row.startsWith('| `NOT_ACCEPTABLE` | 406 |')))
  assert.equal(new Set(config).size, config.length)
  assert.equal(new Set(errors).size, errors.length)
})

test('every docs section a comment of the code names exists', () => {
  const named: string[] = []
  const missing: string[] = []
  for (const file of sourceFiles(['src', 'bench', 'scripts', 'tools', 'test'])) {
    // A reference may be wrapped across comment lines: join them first.
    const text = readFileSync(file, 'utf8').replace(/\n\s*(?:\*|\/\/)\s*/g, ' ')
    for (const [, doc, section] of text.matchAll(/(docs\/[a-z-]+\.md), "([^"]+)"/g)) {
      named.push(`${doc} "${section}"`)
      const headings = existsSync(doc) ? readFileSync(doc, 'utf8').split('\n').filter((line) => line.startsWith('#')).map((line) => line.replace(/^#+\s*/, '')) : []
      if (!headings.includes(section)) missing.push(`${file}: ${doc}, "${section}"`)
    }
  }
  assert.ok(named.length > 10, `found only ${named.length} references: the pattern no longer matches how comments cite docs`)
  assert.deepEqual(missing, [])
})

test('every file of the repository the README and docs/ name exists', () => {
  // Placeholders in command lines, not files.
  const placeholders = new Set(['test/x.test.ts'])
  const path = /(?<![\w/.-])((?:src|test|bench|scripts|tools|migrations|ops|docs)\/[\w./-]*\w\.(?:ts|sql|json|js|yml|yaml|md|sh|ini|conf|cfg))(?![\w.])/g
  const named: string[] = []
  const missing: string[] = []
  for (const doc of ['README.md', ...readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => join('docs', name))]) {
    for (const [, file] of readFileSync(doc, 'utf8').matchAll(path)) {
      named.push(file)
      if (!placeholders.has(file) && !existsSync(file)) missing.push(`${doc}: ${file}`)
    }
  }
  assert.ok(named.length > 50, `found only ${named.length} paths: the pattern no longer matches how the docs name files`)
  assert.deepEqual(missing, [])
})

function sourceFiles (folders: string[]): string[] {
  return folders.flatMap((folder) => readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name)))
}
