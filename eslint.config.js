// `npm run lint`: neostandard (standard's successor) with its TypeScript rules, over every file
// git does not ignore, and the layer rule of docs/architecture.md: src/ imports downward only,
// in the order a request flows, and no file imports itself back through a circle.
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import importX from 'eslint-plugin-import-x'
import { createRequire } from 'node:module'

/** src/ from the top down: each may import only from those after it. */
export const layers = [
  'server.ts',
  'app.ts',
  'http',
  'responses',
  'graphql',
  'auth',
  'loaders',
  'rows',
  'db',
  'changes',
  'observability',
  'deadline',
  'cache-primitives',
  'viewer.ts',
  'config.ts',
  'errors.ts'
]

// import-x parses the files an import names with the TypeScript parser neostandard brings.
const typescriptParser = createRequire(createRequire(import.meta.url).resolve('neostandard')).resolve('@typescript-eslint/parser')

const upwardImports = layers.slice(1).map((layer, index) => ({
  target: `./src/${layer}`,
  from: layers.slice(0, index + 1).map((above) => `./src/${above}`),
  message: `src/${layer} sits below these in docs/architecture.md: it may not import them (move the thing down, or pass it in from above)`
}))

export default [
  ...neostandard({
    ts: true,
    ignores: resolveIgnoresFromGitignore()
  }),
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { [typescriptParser]: ['.ts'] },
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js'] })]
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: upwardImports }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
    }
  }
]
