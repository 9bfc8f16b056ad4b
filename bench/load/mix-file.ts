/**
 * Reads a `--mix`: the name of a built-in mix ("read", the default reads; "write", reads plus
 * 15 % writes) or a JSON file, an array of read entries {name, weight, query, variables?} and
 * generated writes {name: "createNote" | "updateNote" | "deleteNote" | "updateUser", weight,
 * write: true}. Checked entry by entry so a typo names the file, the entry and the value.
 */
import { readFile } from 'node:fs/promises'
import { defaultMixEntries, writeMixEntries } from './request-mix.ts'
import type { MixEntry } from './request-mix.ts'
import { WRITE_KINDS } from './write-planner.ts'
import type { WriteKind } from './write-planner.ts'

export const builtInMixes: Readonly<Record<string, readonly MixEntry[]>> = Object.freeze({ read: defaultMixEntries, write: writeMixEntries })

/** A built-in mix by name, else the file at that path; undefined = the read mix. */
export async function resolveMix (nameOrPath: string | undefined): Promise<readonly MixEntry[]> {
  if (nameOrPath === undefined) return defaultMixEntries
  return Object.hasOwn(builtInMixes, nameOrPath) ? builtInMixes[nameOrPath] : loadMixFile(nameOrPath)
}

export async function loadMixFile (path: string): Promise<MixEntry[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new Error(`mix file ${path} must be readable JSON (or a built-in mix: ${Object.keys(builtInMixes).join(', ')}): ${(error as Error).message}`)
  }
  return parseMixEntries(parsed, `mix file ${path}`)
}

export function parseMixEntries (value: unknown, source: string): MixEntry[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error(`${source} must be a non-empty JSON array of {name, weight, query, variables?} or {name, weight, write: true}: ${JSON.stringify(value)?.slice(0, 80)}`)
  }
  return value.map((raw: unknown, index): MixEntry => {
    const where = `${source}: entry ${index}`
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where} must be an object: ${JSON.stringify(raw)}`)
    const { name, weight, query, variables, write } = raw as Record<string, unknown>
    if (typeof name !== 'string' || name === '') throw new Error(`${where}: name must be a non-empty string: ${JSON.stringify(name)}`)
    if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) throw new Error(`${where} (${name}): weight must be a positive number: ${JSON.stringify(weight)}`)
    if (write !== undefined) {
      if (write !== true) throw new Error(`${where} (${name}): write must be true or absent: ${JSON.stringify(write)}`)
      if (!WRITE_KINDS.includes(name as WriteKind)) throw new Error(`${where}: a write's name must be one of ${WRITE_KINDS.join(', ')}: ${JSON.stringify(name)}`)
      if (query !== undefined || variables !== undefined) throw new Error(`${where} (${name}): a write is generated, it takes no query or variables`)
      return { name: name as WriteKind, weight, write: true }
    }
    if (typeof query !== 'string' || query.trim() === '') throw new Error(`${where} (${name}): query must be a non-empty string: ${JSON.stringify(query)}`)
    if (variables !== undefined && (variables === null || typeof variables !== 'object' || Array.isArray(variables))) {
      throw new Error(`${where} (${name}): variables must be an object: ${JSON.stringify(variables)}`)
    }
    return variables === undefined ? { name, weight, query } : { name, weight, query, variables: variables as Record<string, unknown> }
  })
}
