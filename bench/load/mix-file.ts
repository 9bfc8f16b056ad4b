/**
 * Reads a `--mix FILE`: a JSON array of {name, weight, query, variables?} that replaces the
 * default request mix. Checked entry by entry so a typo names the file, the entry and the value.
 */
import { readFile } from 'node:fs/promises'
import type { MixEntry } from './request-mix.ts'

export async function loadMixFile (path: string): Promise<MixEntry[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new Error(`mix file ${path} must be readable JSON: ${(error as Error).message}`)
  }
  return parseMixEntries(parsed, `mix file ${path}`)
}

export function parseMixEntries (value: unknown, source: string): MixEntry[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error(`${source} must be a non-empty JSON array of {name, weight, query, variables?}: ${JSON.stringify(value)?.slice(0, 80)}`)
  }
  return value.map((raw: unknown, index): MixEntry => {
    const where = `${source}: entry ${index}`
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where} must be an object: ${JSON.stringify(raw)}`)
    const { name, weight, query, variables } = raw as Record<string, unknown>
    if (typeof name !== 'string' || name === '') throw new Error(`${where}: name must be a non-empty string: ${JSON.stringify(name)}`)
    if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) throw new Error(`${where} (${name}): weight must be a positive number: ${JSON.stringify(weight)}`)
    if (typeof query !== 'string' || query.trim() === '') throw new Error(`${where} (${name}): query must be a non-empty string: ${JSON.stringify(query)}`)
    if (variables !== undefined && (variables === null || typeof variables !== 'object' || Array.isArray(variables))) {
      throw new Error(`${where} (${name}): variables must be an object: ${JSON.stringify(variables)}`)
    }
    return variables === undefined ? { name, weight, query } : { name, weight, query, variables: variables as Record<string, unknown> }
  })
}
