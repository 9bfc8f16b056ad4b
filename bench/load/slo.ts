/**
 * The verdict a run is judged by, and so the CLI's exit code: p99 strictly under the budget and
 * a success rate at or above the floor. A run that measured nothing fails: no evidence is not
 * a pass.
 */
import type { LoadResult, SloCheck, SloThresholds, SloVerdict } from './result-types.ts'

/** The default service-level objective: p99 < 200 ms, ≥ 99 % success at 1000 rps. */
export const defaultSloThresholds: Readonly<SloThresholds> = Object.freeze({ p99Ms: 200, successRate: 0.99 })

export function judgeSlo (result: Pick<LoadResult, 'latencyMs' | 'successRate' | 'requests'>, thresholds: SloThresholds = defaultSloThresholds): SloVerdict {
  const p99 = result.latencyMs.p99
  const success = result.successRate
  const checks: SloCheck[] = [
    {
      name: 'requests',
      passed: result.requests.sent > 0,
      actual: result.requests.sent,
      threshold: 1,
      description: `${result.requests.sent} requests measured (need at least 1)`
    },
    {
      name: 'p99',
      passed: result.requests.sent > 0 && p99 < thresholds.p99Ms,
      actual: p99,
      threshold: thresholds.p99Ms,
      description: `p99 ${p99} ms ${p99 < thresholds.p99Ms ? '<' : '≥'} ${thresholds.p99Ms} ms`
    },
    {
      name: 'success',
      passed: result.requests.sent > 0 && success >= thresholds.successRate,
      actual: success,
      threshold: thresholds.successRate,
      description: `success ${formatPercent(success)} ${success >= thresholds.successRate ? '≥' : '<'} ${formatPercent(thresholds.successRate)}`
    }
  ]
  return { passed: checks.every((check) => check.passed), checks }
}

/** 0 = every check passed, 1 = the SLO failed (2 is left for usage and setup errors). */
export function exitCodeOf (verdict: SloVerdict): 0 | 1 {
  return verdict.passed ? 0 : 1
}

/** Two decimals, three when two would round 99.996 % up to a misleading "100.00 %". */
export function formatPercent (fraction: number): string {
  const twoDecimals = (fraction * 100).toFixed(2)
  return `${twoDecimals === '100.00' && fraction < 1 ? (fraction * 100).toFixed(3) : twoDecimals} %`
}
