/**
 * A V8 .cpuprofile (what `node --cpu-prof` writes) → a self-contained HTML flame graph (inline
 * SVG, no script, no CDN) and a top-N self-time table.
 *
 * Ours because the npm tools that draw flame graphs want to run the process themselves (0x) or
 * are viewers that need a browser app (speedscope); converting a profile we already have is a
 * fold and a few rectangles. Layout: an icicle, callers on top, each frame as wide as the time
 * spent in it and below it. Times are samples × the mean sampling interval of the profile.
 */
import { fileURLToPath } from 'node:url'
import { escapeXml } from './load/svg-chart.ts'

const repoRootPath = fileURLToPath(new URL('../', import.meta.url))

export interface CpuProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number, columnNumber?: number }
  hitCount?: number
  children?: number[]
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface FoldedStack {
  /** Frame labels from the outermost caller to the sampled function; the (root) is left out. */
  frames: string[]
  samples: number
}

export interface FlameNode {
  name: string
  /** Samples in this frame itself. */
  self: number
  /** Samples in this frame and everything it called. */
  total: number
  children: FlameNode[]
}

export interface SelfTimeRow {
  name: string
  selfMs: number
  /** Of all samples, idle included. */
  share: number
}

/** "fn path/file.ts:line" — the same label for the same function wherever it was sampled. */
export function frameLabel (callFrame: CpuProfileNode['callFrame']): string {
  const name = callFrame.functionName || '(anonymous)'
  if (callFrame.url === '') return name
  let path = callFrame.url.replace(/^file:\/\//, '')
  const dependency = path.lastIndexOf('/node_modules/')
  if (dependency !== -1) path = path.slice(dependency + '/node_modules/'.length)
  else if (path.startsWith(repoRootPath)) path = path.slice(repoRootPath.length)
  return `${name} ${path}:${callFrame.lineNumber + 1}`
}

/** One stack per sampled node, samples counted from `samples` (or `hitCount` when absent). */
export function foldProfile (profile: CpuProfile): FoldedStack[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const hits = new Map<number, number>()
  if (profile.samples !== undefined && profile.samples.length > 0) {
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1)
  } else {
    for (const node of profile.nodes) if (node.hitCount) hits.set(node.id, node.hitCount)
  }
  const stacks: FoldedStack[] = []
  for (const [id, samples] of hits) {
    const frames: string[] = []
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const node = byId.get(current)!
      if (parentOf.has(current) || node.callFrame.functionName !== '(root)') frames.push(frameLabel(node.callFrame))
    }
    stacks.push({ frames: frames.reverse(), samples })
  }
  return stacks
}

/** Merges folded stacks into one tree; children sorted by name so the picture is stable. */
export function buildFlameTree (stacks: readonly FoldedStack[]): FlameNode {
  const root: FlameNode = { name: 'all', self: 0, total: 0, children: [] }
  for (const { frames, samples } of stacks) {
    root.total += samples
    let node = root
    for (const frame of frames) {
      let child = node.children.find((candidate) => candidate.name === frame)
      if (child === undefined) {
        child = { name: frame, self: 0, total: 0, children: [] }
        node.children.push(child)
      }
      child.total += samples
      node = child
    }
    node.self += samples
  }
  sortTree(root)
  return root
}

/** The functions with the most self time, summed over every stack they appear at the top of. */
export function topSelfTime (profile: CpuProfile, limit = 15): SelfTimeRow[] {
  const stacks = foldProfile(profile)
  const total = stacks.reduce((sum, stack) => sum + stack.samples, 0)
  const msPerSample = sampleIntervalMs(profile, total)
  const selfByName = new Map<string, number>()
  for (const { frames, samples } of stacks) {
    const name = frames.at(-1) ?? '(root)'
    selfByName.set(name, (selfByName.get(name) ?? 0) + samples)
  }
  return [...selfByName].sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([name, samples]) => ({ name, selfMs: round1(samples * msPerSample), share: total === 0 ? 0 : samples / total }))
}

export function renderFlameGraphHtml (profile: CpuProfile, title: string): string {
  const stacks = foldProfile(profile)
  const tree = buildFlameTree(stacks)
  const msPerSample = sampleIntervalMs(profile, tree.total)
  const width = 1200
  const rowHeight = 18
  const rects: string[] = []
  let depthMax = 0
  const draw = (node: FlameNode, x: number, depth: number): void => {
    const w = tree.total === 0 ? 0 : node.total / tree.total * width
    if (w < 0.3) return // too thin to see; its time still counts in its parent's width
    depthMax = Math.max(depthMax, depth)
    const label = `${node.name} — ${round1(node.total * msPerSample)} ms (${(node.total / Math.max(1, tree.total) * 100).toFixed(1)} %), self ${round1(node.self * msPerSample)} ms`
    const text = w > 30 ? `<text x="${(x + 3).toFixed(1)}" y="${depth * rowHeight + 13}">${escapeXml(fit(node.name, w))}</text>` : ''
    rects.push(`<g><title>${escapeXml(label)}</title><rect x="${x.toFixed(1)}" y="${depth * rowHeight}" width="${w.toFixed(1)}" height="${rowHeight - 1}" fill="${colorOf(node.name)}"/>${text}</g>`)
    let childX = x
    for (const child of node.children) {
      draw(child, childX, depth + 1)
      childX += child.total / tree.total * width
    }
  }
  draw(tree, 0, 0)
  const height = (depthMax + 1) * rowHeight
  const rows = topSelfTime(profile, 15).map((row) => `<tr><td>${escapeXml(row.name)}</td><td>${row.selfMs}</td><td>${(row.share * 100).toFixed(1)} %</td></tr>`).join('\n')
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1em}svg text{font:11px monospace;pointer-events:none}rect{stroke:#fff;stroke-width:.5}
td,th{padding:2px 8px;text-align:left}td:nth-child(n+2){text-align:right}</style></head><body>
<h1>${escapeXml(title)}</h1>
<p>${tree.total} samples, ${round1(tree.total * msPerSample)} ms. Callers on top; width = time in a frame and below it; hover a frame for its times.
Colours: <span style="background:${COLORS.ours}">our code</span> <span style="background:${COLORS.dependency}">node_modules</span>
<span style="background:${COLORS.node}">Node internals</span> <span style="background:${COLORS.vm}">V8 / GC / idle</span></p>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rects.join('\n')}</svg>
<h2>Top self time</h2><table><tr><th>function</th><th>self ms</th><th>share</th></tr>${rows}</table>
</body></html>\n`
}

// Private:

const COLORS = Object.freeze({ ours: '#f2a65a', dependency: '#e8d36a', node: '#b7c9d9', vm: '#cfcfcf' })

function colorOf (name: string): string {
  if (/ (src|bench|scripts)\//.test(name)) return COLORS.ours
  if (/ node:/.test(name)) return COLORS.node
  if (!name.includes(' ') || name === 'all') return COLORS.vm
  return COLORS.dependency
}

function sampleIntervalMs (profile: CpuProfile, totalSamples: number): number {
  return totalSamples === 0 ? 0 : (profile.endTime - profile.startTime) / 1000 / totalSamples
}

function sortTree (node: FlameNode): void {
  node.children.sort((a, b) => a.name.localeCompare(b.name))
  for (const child of node.children) sortTree(child)
}

function fit (text: string, widthPx: number): string {
  const chars = Math.floor((widthPx - 6) / 6.6)
  return text.length <= chars ? text : `${text.slice(0, Math.max(0, chars - 1))}…`
}

function round1 (value: number): number {
  return Math.round(value * 10) / 10
}
