/** Flag parsing shared by the benchmark commands: a bad flag is a UsageError (exit 2, message only). */
export class UsageError extends Error {}

export function positive (flag: string, raw: string, allowZero = false): number {
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number: ${JSON.stringify(raw)}`)
  }
  return value
}

/** A count flag: a whole number ≥ 1. */
export function positiveInteger (flag: string, raw: string): number {
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a positive integer: ${JSON.stringify(raw)}`)
  return value
}

/** The exit path of a command: its exit code, or 2 with the message of a UsageError (else the stack). */
export function exitWith (name: string, run: Promise<number>): void {
  run.then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof UsageError ? error.message : (error as Error).stack}\n`)
    process.exit(2)
  })
}
