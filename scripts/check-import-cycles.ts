/**
 * `npm run lint`'s second half: no circle of imports in src/, type-only imports included.
 *
 * Our own, because import-x's no-cycle (the first half, in eslint.config.js) skips type-only
 * imports by design, and a circle of types still ties files that should read top to bottom.
 * Reads each file's `import … from './…'` and `export … from './…'` specifiers as text.
 * Exit code: 0 none, 1 a circle (each printed as a chain of paths).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

export function findImportCycles (root: string): string[][] {
  const files = listTypeScript(root)
  const edges = new Map(files.map((file) => [file, relativeImports(file)]))
  const cycles: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'open')
    stack.push(file)
    for (const target of edges.get(file) ?? []) {
      if (!edges.has(target)) continue
      if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target])
      else if (state.get(target) === undefined) visit(target)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const file of files) if (state.get(file) === undefined) visit(file)
  return cycles
}

// Private:

const SPECIFIER = /^\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/gm

function relativeImports (file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((match) => resolve(dirname(file), match[1]))
}

function listTypeScript (folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = resolve(folder, entry.name)
    if (entry.isDirectory()) return listTypeScript(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const root = join(import.meta.dirname, '..', 'src')
  const cycles = findImportCycles(root)
  for (const cycle of cycles) process.stderr.write(`import circle: ${cycle.map((file) => relative(process.cwd(), file)).join(' -> ')}\n`)
  process.exitCode = cycles.length > 0 ? 1 : 0
}
