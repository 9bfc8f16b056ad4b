/**
 * The native programs the scale-out topology runs, found on PATH (and in /usr/sbin, where
 * Debian puts daemons but a non-root PATH often does not look). A missing one is named
 * together with the Debian package that provides it, so the fix is one apt-get line.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

export const debianPackages = Object.freeze({
  pgbouncer: 'pgbouncer',
  haproxy: 'haproxy',
  'redis-server': 'redis-server'
})

export type NativeProgram = keyof typeof debianPackages

export class MissingBinaryError extends Error {
  readonly program: NativeProgram
  readonly debianPackage: string

  constructor (program: NativeProgram) {
    const debianPackage = debianPackages[program]
    super(`${program} is not installed: it comes with the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`)
    this.name = 'MissingBinaryError'
    this.program = program
    this.debianPackage = debianPackage
  }
}

/** The absolute path of `program`; throws MissingBinaryError when it is nowhere to be found. */
export function requireBinary (program: NativeProgram, directories = defaultSearchPath()): string {
  const found = findBinary(program, directories)
  if (found === null) throw new MissingBinaryError(program)
  return found
}

export function findBinary (program: NativeProgram, directories = defaultSearchPath()): string | null {
  for (const directory of directories) {
    const candidate = join(directory, program)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch { /* not here */ }
  }
  return null
}

/** The programs among `programs` that are missing, with a sentence for a test's skip reason. */
export function describeMissing (programs: readonly NativeProgram[], directories = defaultSearchPath()): string | null {
  const missing = programs.filter((program) => findBinary(program, directories) === null)
  if (missing.length === 0) return null
  const packages = missing.map((program) => debianPackages[program]).join(' ')
  return `${missing.join(', ')} not installed: apt-get install -y ${packages} (Debian package${missing.length > 1 ? 's' : ''} ${packages})`
}

/** PATH, then the sbin directories. */
export function defaultSearchPath (): string[] {
  return [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin']
}
