/**
 * The server's warnings and errors of a check run, counted by message: a report shows which
 * kinds of trouble the server logged and how often, not thousands of lines.
 */

/** Counts the server's log lines by their message (pino JSON: err.message or msg). */
export function createServerLogTally () {
  const tally = new Map<string, number>()
  return {
    add (line: string): void {
      if (line.trim() === '') return
      let key = line
      try {
        const entry = JSON.parse(line) as { msg?: string, err?: { message?: string } }
        key = entry.err?.message ?? entry.msg ?? line
      } catch { /* not JSON: the line as it is */ }
      // Numbers vary from line to line (ids, ms); the kind of message does not.
      key = key.replace(/\s+/g, ' ').replace(/\d+/g, 'N').slice(0, 120)
      tally.set(key, (tally.get(key) ?? 0) + 1)
    },
    /** Message → count, the most frequent first. */
    counts: (): Record<string, number> => Object.fromEntries([...tally].sort((a, b) => b[1] - a[1]))
  }
}

/** "12× message | 3× other message", at most `limit` kinds; "none" when empty. */
export function describeServerLog (counts: Record<string, number>, limit = 8): string {
  const entries = Object.entries(counts)
  return entries.length === 0 ? 'none' : entries.slice(0, limit).map(([line, count]) => `${count}× ${line}`).join(' | ')
}
