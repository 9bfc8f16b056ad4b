/**
 * Line charts as inline SVG strings, so the HTML report is one self-contained file that opens
 * offline (no CDN, no script). Just enough of a chart library for the report: linear or log y
 * axis, custom x ticks, gaps where a value is missing, a legend.
 */

export interface ChartSeries {
  name: string
  color: string
  /** [x, y]; a null y leaves a gap in the line. */
  points: Array<[number, number | null]>
}

export interface LineChartOptions {
  title: string
  xLabel: string
  yLabel: string
  series: ChartSeries[]
  /** Log suits latencies, where a 1 s stall and a 2 ms median must both be readable. Default linear. */
  yScale?: 'linear' | 'log'
  /** Replace the automatic x ticks (the percentile plot labels 90 %, 99 %, ...). */
  xTicks?: Array<{ value: number, label: string }>
  width?: number
  height?: number
}

export function renderLineChart (options: LineChartOptions): string {
  const width = options.width ?? 760
  const height = options.height ?? 300
  const margin = { left: 70, right: 20, top: 34, bottom: 46 }
  const plotWidth = width - margin.left - margin.right
  const plotHeight = height - margin.top - margin.bottom
  const log = options.yScale === 'log'

  const xs: number[] = []
  const ys: number[] = []
  for (const series of options.series) {
    for (const [x, y] of series.points) {
      xs.push(x)
      if (y !== null && (!log || y > 0)) ys.push(y)
    }
  }
  const header = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}">` +
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(options.title)}</text>`
  if (xs.length === 0 || ys.length === 0) {
    return `${header}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#888">no data</text></svg>`
  }

  const xMin = Math.min(...xs)
  const xMax = Math.max(...xs) === xMin ? xMin + 1 : Math.max(...xs)
  const yTicks = log ? logTicks(Math.min(...ys), Math.max(...ys)) : linearTicks(0, Math.max(...ys))
  const yMin = yTicks[0]
  const yMax = yTicks[yTicks.length - 1]
  const toX = (x: number): number => margin.left + (x - xMin) / (xMax - xMin) * plotWidth
  const toY = log
    ? (y: number): number => margin.top + plotHeight - (Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) * plotHeight
    : (y: number): number => margin.top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight
  const xTicks = options.xTicks ?? linearTicks(xMin, xMax).map((value) => ({ value, label: formatNumber(value) }))

  const parts: string[] = [header]
  parts.push('<g font-size="11" fill="#555">')
  for (const tick of yTicks) {
    const y = toY(tick).toFixed(1)
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`,
      `<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNumber(tick))}</text>`)
  }
  for (const tick of xTicks) {
    if (tick.value < xMin || tick.value > xMax) continue
    const x = toX(tick.value).toFixed(1)
    parts.push(`<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#f0f0f0"/>`,
      `<text x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${escapeXml(tick.label)}</text>`)
  }
  parts.push('</g>',
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(options.yLabel)}</text>`)

  options.series.forEach((series, index) => {
    for (const segment of segmentsOf(series.points, log)) {
      const coordinates = segment.map(([x, y]) => `${toX(x).toFixed(1)},${toY(y).toFixed(1)}`).join(' ')
      parts.push(segment.length === 1
        ? `<circle cx="${toX(segment[0][0]).toFixed(1)}" cy="${toY(segment[0][1]).toFixed(1)}" r="2.5" fill="${series.color}"/>`
        : `<polyline points="${coordinates}" fill="none" stroke="${series.color}" stroke-width="1.8" stroke-linejoin="round"/>`)
    }
    const legendX = margin.left + 10 + index * 130
    parts.push(`<rect x="${legendX}" y="${margin.top + 8}" width="14" height="4" fill="${series.color}"/>`,
      `<text x="${legendX + 20}" y="${margin.top + 13}" font-size="12">${escapeXml(series.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

export function escapeXml (text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char])
}

// Private:

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Runs of consecutive plottable points; a null (or, on a log axis, a non-positive) y breaks the line. */
function segmentsOf (points: Array<[number, number | null]>, log: boolean): Array<Array<[number, number]>> {
  const segments: Array<Array<[number, number]>> = []
  let current: Array<[number, number]> = []
  for (const [x, y] of points) {
    if (y === null || (log && y <= 0)) {
      if (current.length > 0) segments.push(current)
      current = []
    } else {
      current.push([x, y])
    }
  }
  if (current.length > 0) segments.push(current)
  return segments
}

/** About five round ticks covering [min, max]. */
function linearTicks (min: number, max: number): number[] {
  if (max <= min) max = min + 1
  const rough = (max - min) / 5
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? rough
  const ticks: number[] = []
  for (let tick = Math.floor(min / step) * step; tick < max + step; tick += step) {
    ticks.push(Number(tick.toPrecision(12)))
    if (tick >= max) break
  }
  return ticks
}

/** Powers of ten around [min, max], at least two of them. */
function logTicks (min: number, max: number): number[] {
  const low = Math.floor(Math.log10(Math.max(min, 1e-3)))
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)))
  const ticks: number[] = []
  for (let power = low; power <= high; power++) ticks.push(Number((10 ** power).toPrecision(12)))
  return ticks
}

function formatNumber (value: number): string {
  if (value >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`
  if (value >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`
  return String(Number(value.toPrecision(4)))
}
