/**
 * Reads a server's Prometheus text as the tests need it, without a parser dependency.
 */

/**
 * The sum of `name`'s series whose labels include every pair of `labels` (all its series when
 * none are given). A labelled series nothing has counted yet is not exported: 0 while the metric
 * is declared (`# TYPE`); a name the server does not declare gives NaN, which no check passes.
 */
export function metricSum (text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}=${JSON.stringify(value)}`)
  let sum = 0
  let found = false
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (!rest.startsWith(' ') && !rest.startsWith('{')) continue
    const labelText = rest.startsWith('{') ? rest.slice(1, rest.indexOf('}')) : ''
    if (!wanted.every((pair) => labelText.split(',').includes(pair))) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
    found = true
  }
  if (found) return sum
  const family = name.replace(/_(count|sum|bucket)$/, '')
  return text.includes(`# TYPE ${name} `) || text.includes(`# TYPE ${family} histogram`) ? 0 : NaN
}
