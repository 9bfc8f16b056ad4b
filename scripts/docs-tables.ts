/**
 * `npm run docs:tables`: prints the README's configuration table (from configOptions) and
 * error-code table (from errorCatalogue) as Markdown. test/docs.test.ts checks that README.md
 * contains exactly these tables, so the docs cannot drift from the code.
 */
import { pathToFileURL } from 'node:url'
import { configOptions } from '../src/config.ts'
import { errorCatalogue } from '../src/errors.ts'

export function configurationTable (): string {
  const rows = configOptions.map((option) =>
    `| \`${option.env}\` | ${option.fallback === undefined ? '(unset)' : option.fallback === '' ? '(empty)' : `\`${option.fallback}\``} | ${cell(option.doc)} |`)
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

export function errorCodeTable (): string {
  const rows = Object.entries(errorCatalogue).map(([code, { status, doc }]) =>
    `| \`${code}\` | ${status === 200 ? '200 (field error)' : status} | ${cell(doc)} |`)
  return ['| Code | HTTP status | Meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`## Configuration\n\n${configurationTable()}\n\n## Error codes\n\n${errorCodeTable()}\n`)
}

// Private:

function cell (text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}
