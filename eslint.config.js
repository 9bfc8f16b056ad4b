// `npm run lint`: neostandard (standard's successor) with its TypeScript rules, over every file
// git does not ignore.
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default neostandard({
  ts: true,
  ignores: resolveIgnoresFromGitignore()
})
