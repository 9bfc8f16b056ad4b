/**
 * Writes a run's JSON and HTML side by side in the results folder (bench/results/ by default,
 * which git ignores: results are machine-specific, they belong in a PR comment, not in history).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface WrittenResultFiles {
  jsonPath: string
  htmlPath: string
}

/**
 * @param baseName e.g. "load-1000rps"; a UTC timestamp is prepended so runs never overwrite
 *   each other and sort by time.
 */
export async function writeResultFiles (outDir: string, baseName: string, data: unknown, html: string, now = new Date()): Promise<WrittenResultFiles> {
  await mkdir(outDir, { recursive: true })
  const stem = `${timestampForFileName(now)}-${baseName}`
  const jsonPath = join(outDir, `${stem}.json`)
  const htmlPath = join(outDir, `${stem}.html`)
  await writeFile(jsonPath, `${JSON.stringify(data, null, 2)}\n`)
  await writeFile(htmlPath, html)
  return { jsonPath, htmlPath }
}

/** 2025-11-26T19-30-05Z: ISO 8601 without the characters some file systems refuse. */
export function timestampForFileName (date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-')
}
