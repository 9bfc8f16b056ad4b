/**
 * A Prometheus counter for the hot path: each increment adds to a plain number (one per label
 * value, in a Map), and the numbers are handed to prom-client when the registry is scraped.
 * prom-client's own `inc({ operation })` takes a labels object, builds a hash string from it and
 * walks it to validate the label names on every call: garbage on every request for a figure
 * read once every 15 s (docs/performance.md, "The response-cache hit path"). The exported
 * series, their values and their order are the same (a test compares).
 */
import { Counter, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client'

export interface ScrapeTimeCounter {
  /** Adds one to the series of `labelValue` (the counter's one label), or to the unlabelled one. */
  inc (labelValue?: string): void
  /** What prom-client's Counter.get() gives (tests look in). */
  get (): Promise<MetricObjectWithValues<MetricValue<string>>>
}

export interface ScrapeTimeCounterOptions {
  name: string
  help: string
  /** The counter's one label; none for an unlabelled counter. */
  labelName?: string
  registers: Registry[]
}

export function createScrapeTimeCounter ({ name, help, labelName, registers }: ScrapeTimeCounterOptions): ScrapeTimeCounter {
  // Label value → count; '' is the unlabelled series. First seen, first exported, as prom-client does.
  const counts = new Map<string, number>()
  const counter = new Counter({
    name,
    help,
    labelNames: labelName === undefined ? [] : [labelName],
    registers,
    collect () {
      this.reset()
      for (const [value, count] of counts) {
        if (labelName === undefined) this.inc(count)
        else this.inc({ [labelName]: value }, count)
      }
    }
  })
  return {
    inc (labelValue = '') {
      counts.set(labelValue, (counts.get(labelValue) ?? 0) + 1)
    },
    get: () => counter.get()
  }
}
