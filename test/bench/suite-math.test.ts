/**
 * The pure cores of the benchmark suite: the soak's growth figure, the scaling R², and the
 * flame graph's folding of a .cpuprofile. The commands themselves are benchmarks, not tests.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildFlameTree, foldProfile, renderFlameGraphHtml, topSelfTime, type CpuProfile } from '../../bench/flamegraph.ts'
import { judgedRSquared, linearFit } from '../../bench/scaling.ts'
import { computeGrowth, leastSquaresSlope } from '../../bench/soak.ts'

describe('soak growth', () => {
  test('ignores the warm-up and compares medians of the first and last judged samples', () => {
    const points = [
      { second: 0, value: 50 }, { second: 10, value: 90 }, // warm-up: caches filling
      ...Array.from({ length: 10 }, (_, i) => ({ second: 20 + i * 10, value: i < 5 ? 100 : 110 }))
    ]
    const growth = computeGrowth(points, 20)!
    assert.equal(growth.samplesJudged, 10)
    assert.equal(growth.baselineBytes, 100)
    assert.equal(growth.finalBytes, 110)
    assert.ok(Math.abs(growth.growth - 0.1) < 1e-12)
  })

  test('one high sample at the end does not decide the verdict', () => {
    const points = Array.from({ length: 20 }, (_, i) => ({ second: i * 10, value: i === 19 ? 200 : 100 }))
    assert.equal(computeGrowth(points, 0)!.growth, 0)
  })

  test('flat memory has no growth and no slope; too few samples is null, not a pass', () => {
    const flat = computeGrowth(Array.from({ length: 6 }, (_, i) => ({ second: i, value: 100 })), 0)!
    assert.equal(flat.growth, 0)
    assert.equal(flat.slopePerHour, 0)
    assert.equal(computeGrowth([{ second: 0, value: 1 }, { second: 100, value: 2 }], 50), null)
  })

  test('the slope is per hour, relative to the baseline', () => {
    assert.equal(leastSquaresSlope([[0, 0], [1, 2], [2, 4]]), 2)
    const rising = computeGrowth([{ second: 0, value: 100 }, { second: 3600, value: 110 }], 0)!
    assert.ok(Math.abs(rising.slopePerHour - 0.1) < 1e-12)
  })
})

describe('scaling R²', () => {
  test('a perfect line has R² 1, and the fit finds its slope and intercept', () => {
    const fit = linearFit([[1, 510], [2, 1010], [3, 1510]])
    assert.ok(Math.abs(fit.slope - 500) < 1e-9)
    assert.ok(Math.abs(fit.intercept - 10) < 1e-9)
    assert.equal(fit.rSquared, 1)
  })

  test('flat throughput explains nothing: R² 0 over three points', () => {
    assert.equal(linearFit([[1, 1000], [2, 1100], [3, 1000]]).rSquared, 0)
  })

  test('two points fit any line, so the judged R² adds the origin', () => {
    assert.equal(linearFit([[1, 1000], [2, 1000]]).rSquared, NaN)
    const flat = judgedRSquared([[1, 1000], [2, 1000]])
    assert.equal(flat.withOrigin, true)
    assert.ok(Math.abs(flat.rSquared - 0.75) < 1e-12) // no gain from a second worker fails 0.9
    assert.equal(judgedRSquared([[1, 1000], [2, 2000]]).rSquared, 1)
    assert.equal(judgedRSquared([[1, 1], [2, 2], [3, 3]]).withOrigin, false)
  })

  test('names the contract when a line cannot be fitted', () => {
    assert.throws(() => linearFit([[1, 1]]), /at least 2 points: 1/)
    assert.throws(() => linearFit([[1, 1], [1, 2]]), /distinct x/)
  })
})

describe('flame graph folding', () => {
  // (root) → main (src/app.ts) → work (node_modules/dep/x.js) ; main also samples itself; (idle) off the root.
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10_000, // 10 ms over 10 samples: 1 ms each
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 4] },
      { id: 2, callFrame: { functionName: 'main', url: 'file:///somewhere/else/src/app.ts', lineNumber: 9 }, children: [3] },
      { id: 3, callFrame: { functionName: 'work', url: 'file:///x/node_modules/dep/x.js', lineNumber: 0 } },
      { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } }
    ],
    samples: [3, 3, 3, 3, 3, 3, 2, 2, 4, 4]
  }

  test('one stack per sampled node, callers first, the root left out', () => {
    const stacks = foldProfile(profile).sort((a, b) => b.samples - a.samples)
    assert.deepEqual(stacks, [
      { frames: ['main /somewhere/else/src/app.ts:10', 'work dep/x.js:1'], samples: 6 },
      { frames: ['main /somewhere/else/src/app.ts:10'], samples: 2 },
      { frames: ['(idle)'], samples: 2 }
    ])
  })

  test('the tree adds callees into their callers; self time is what the frame sampled itself', () => {
    const tree = buildFlameTree(foldProfile(profile))
    assert.equal(tree.total, 10)
    const main = tree.children.find((child) => child.name.startsWith('main'))!
    assert.equal(main.total, 8)
    assert.equal(main.self, 2)
    assert.equal(main.children[0].total, 6)
  })

  test('top self time in ms from the mean sampling interval, hitCount when there are no samples', () => {
    assert.deepEqual(topSelfTime(profile, 2), [
      { name: 'work dep/x.js:1', selfMs: 6, share: 0.6 },
      { name: 'main /somewhere/else/src/app.ts:10', selfMs: 2, share: 0.2 }
    ])
    const counted: CpuProfile = { ...profile, samples: undefined, nodes: profile.nodes.map((node) => ({ ...node, hitCount: node.id === 3 ? 4 : 0 })) }
    assert.deepEqual(topSelfTime(counted, 1), [{ name: 'work dep/x.js:1', selfMs: 10, share: 1 }])
  })

  test('the HTML is self-contained: inline SVG, escaped names, no script', () => {
    const html = renderFlameGraphHtml({ ...profile, nodes: profile.nodes.map((node) => node.id === 2 ? { ...node, callFrame: { ...node.callFrame, functionName: '<main>' } } : node) }, 'a & b')
    assert.match(html, /<svg /)
    assert.match(html, /&lt;main&gt;/)
    assert.match(html, /a &amp; b/)
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/)
  })
})
