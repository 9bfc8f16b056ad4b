/**
 * The README's configuration and error-code tables are exactly what `npm run docs:tables`
 * prints from the code (configOptions, errorCatalogue): a new option or error code fails this
 * test until the README shows it.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
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
