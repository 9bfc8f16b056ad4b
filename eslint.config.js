// `npm run lint`: neostandard (standard's successor) with its TypeScript rules, over every file
// git does not ignore, and the layer rule of docs/architecture.md: src/ imports downward only,
// in the order a request flows, and no file imports itself back through a circle. Around src/:
// bench/ and scripts/ never import test/ (what they share with it lives in tools/), tools/
// imports none of the three, and src/ imports none of the four.
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

const importXSettings = {
  'import-x/extensions': ['.ts', '.js'],
  'import-x/parsers': { [typescriptParser]: ['.ts'] },
  'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js'] })]
}

const devToolingImports = [
  { target: ['./bench', './scripts'], from: './test', message: 'bench/ and scripts/ may not import test/: move what both need to tools/' },
  { target: './tools', from: ['./test', './bench', './scripts'], message: 'tools/ serves bench/, scripts/ and test/: it may not import them' }
]

export default [
  ...neostandard({
    ts: true,
    ignores: resolveIgnoresFromGitignore()
  }),
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: importXSettings,
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [...upwardImports, { target: './src', from: ['./tools', './bench', './scripts', './test'], message: 'src/ is the product: it may not import the dev tooling' }]
      }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
    }
  },
  {
    files: ['bench/**/*.ts', 'scripts/**/*.ts', 'tools/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: importXSettings,
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: devToolingImports }]
    }
  }
]
