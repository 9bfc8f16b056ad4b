/**
 * The open-model load generator as a library, for `bench/load-test.ts` and for the soak,
 * find-max and scaling benchmarks that reuse it. Typical use:
 *
 *   const fixtures = await collectFixtures({ url, users: 200 })
 *   const mix = createRequestMix({ entries: defaultMixEntries, fixtures })
 *   const result = await runOpenModelLoad({ url, rate: 1000, durationSeconds: 60, mix })
 *   const verdict = judgeSlo(result, { p99Ms: 200, successRate: 0.99 })
 *   await writeResultFiles('bench/results', 'soak', result, renderHtmlReport(result, verdict))
 *
 * Why our own: see run-open-model-load.ts.
 */
export { createArrivalSchedule } from './arrival-schedule.ts'
export type { ArrivalSchedule } from './arrival-schedule.ts'
export { collectFixtures, fixtureDefaults, LOGIN_MUTATION, ownNotesPerUserFor } from './fixtures.ts'
export type { FixtureOptions } from './fixtures.ts'
export { findMaxRate, findMaxDefaults } from './find-max.ts'
export type { FindMaxOptions } from './find-max.ts'
export { renderFindMaxHtmlReport, renderHtmlReport } from './html-report.ts'
export { createLatencyRecorder, TIMEOUT_ERROR_TYPE } from './latency-recorder.ts'
export type { LatencyRecorder, LatencyRecording } from './latency-recorder.ts'
export { builtInMixes, loadMixFile, parseMixEntries, resolveMix } from './mix-file.ts'
export { createIndexPicker, createRequestMix, defaultMixEntries, writeMixEntries } from './request-mix.ts'
export type { Fixtures, MixEntry, PlannedRequest, ReadMixEntry, RequestMix, RequestMixOptions, SeededUser, WriteMixEntry } from './request-mix.ts'
export { createWritePlanner, pickTags, WRITE_KINDS, WRITE_QUERIES, WRITE_TAGS } from './write-planner.ts'
export type { OwnNote, PlannedWrite, Visibility, WriteExpectation, WriteKind, WritePlanner } from './write-planner.ts'
export { classifyNetworkError, classifyResponse } from './response-outcome.ts'
export { timestampForFileName, writeResultFiles } from './result-files.ts'
export type * from './result-types.ts'
export { loadDefaults, runOpenModelLoad } from './run-open-model-load.ts'
export type { LoadProgress, OpenModelLoadOptions } from './run-open-model-load.ts'
export type { ResponseObserver } from './in-flight-request.ts'
export { createServerMetricsScraper, defaultMetricsUrl, parsePrometheusSums, startServerMetricsSampler, summarizeServerMetrics } from './server-metrics.ts'
export type { ServerMetricsSnapshot } from './server-metrics.ts'
export { defaultSloThresholds, exitCodeOf, judgeSlo } from './slo.ts'
export { latencySummary, percentileDistribution, summarize } from './summarize.ts'
export { formatFindMaxText, formatProgressLine, formatResultText, formatStageLine, formatVerdict } from './text-report.ts'
