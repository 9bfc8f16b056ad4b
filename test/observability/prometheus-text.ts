/**
 * Reads the Prometheus text format the way a scraper does, enough for assertions:
 * `series(text)` → [{ name, labels, value }], `valueOf(text, name, labels)` sums the matching
 * series (0 when none), `familyNames(text)` lists the # TYPE lines. Our own small parser.
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export function series (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return samples
}

/** Sum of the samples called `name` whose labels include all of `labels`. */
export function valueOf (text: string, name: string, labels: Record<string, string> = {}): number {
  return series(text)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0)
}

export function familyNames (text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]))
}
