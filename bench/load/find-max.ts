/**
 * --find-max: the highest arrival rate that still meets the SLO. Stages of a fixed length step
 * the rate up (×factor, or +step rps) from a start rate; the search stops at the first stage
 * that fails, or after a passing stage at the cap. Each stage is a full open-model run, so each
 * verdict is as honest as a single run's.
 */
import { runOpenModelLoad } from './run-open-model-load.ts'
import type { OpenModelLoadOptions } from './run-open-model-load.ts'
import type { FindMaxResult, FindMaxStage, LoadResult, SloThresholds } from './result-types.ts'
import { judgeSlo } from './slo.ts'

export interface FindMaxOptions extends Omit<OpenModelLoadOptions, 'rate' | 'durationSeconds' | 'warmupSeconds'> {
  startRate: number
  maxRate: number
  /** Seconds per stage. Default 20. */
  stepDurationSeconds?: number
  /** Each stage's rate is the previous one × this, unless stepRps is set. Default 1.25. */
  stepFactor?: number
  /** Each stage's rate is the previous one + this many rps. */
  stepRps?: number
  /** Warmup before the first stage only; later stages follow a passing stage without a gap. */
  warmupSeconds?: number
  thresholds: SloThresholds
  onStageStart?: (rate: number, stageIndex: number) => void
  onStage?: (stage: FindMaxStage) => void
  /** Injectable for tests; default runOpenModelLoad. */
  runStage?: (options: OpenModelLoadOptions) => Promise<LoadResult>
}

export const findMaxDefaults = Object.freeze({ stepDurationSeconds: 20, stepFactor: 1.25 })

export async function findMaxRate (options: FindMaxOptions): Promise<FindMaxResult> {
  const { startRate, maxRate, thresholds } = options
  const stepDurationSeconds = options.stepDurationSeconds ?? findMaxDefaults.stepDurationSeconds
  const stepFactor = options.stepFactor ?? findMaxDefaults.stepFactor
  const runStage = options.runStage ?? runOpenModelLoad
  if (!(startRate > 0)) throw new RangeError(`startRate must be a positive number: ${startRate}`)
  if (!(maxRate >= startRate)) throw new RangeError(`maxRate must be at least startRate (${startRate}): ${maxRate}`)
  if (options.stepRps === undefined && !(stepFactor > 1)) throw new RangeError(`stepFactor must be greater than 1: ${stepFactor}`)
  if (options.stepRps !== undefined && !(options.stepRps > 0)) throw new RangeError(`stepRps must be a positive number: ${options.stepRps}`)

  const startedAt = new Date().toISOString()
  const stages: FindMaxStage[] = []
  let maxPassingRate: number | null = null
  let rate = startRate
  for (let stageIndex = 0; ; stageIndex++) {
    options.onStageStart?.(rate, stageIndex)
    const result = await runStage({
      ...options,
      rate,
      durationSeconds: stepDurationSeconds,
      warmupSeconds: stageIndex === 0 ? options.warmupSeconds ?? 0 : 0
    })
    const stage: FindMaxStage = { rate, verdict: judgeSlo(result, thresholds), result }
    stages.push(stage)
    options.onStage?.(stage)
    if (!stage.verdict.passed) return { kind: 'find-max', startedAt, thresholds, maxPassingRate, stoppedBecause: 'stage-failed', stages }
    maxPassingRate = rate
    if (rate >= maxRate) return { kind: 'find-max', startedAt, thresholds, maxPassingRate, stoppedBecause: 'max-rate-reached', stages }
    rate = Math.min(maxRate, nextRate(rate, stepFactor, options.stepRps))
  }
}

// Private:

/** Whole requests per second, and always at least one more than before. */
function nextRate (rate: number, stepFactor: number, stepRps: number | undefined): number {
  const next = stepRps === undefined ? rate * stepFactor : rate + stepRps
  return Math.max(rate + 1, Math.round(next))
}
