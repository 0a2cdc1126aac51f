import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { percentile } from '@kvbench/common';
import { compareRuns, pairedBootstrapRatios } from '@kvbench/report';
import { normal, syntheticPair } from './fixtures.js';

test('paired bootstrap CI of the median ratio covers the true ratio in >= 93 of 100 seeded cases', (t) => {
  const cases = 100;
  let covered = 0;
  let coveredP95 = 0;
  const sigma = 0.6;
  const noise = 0.2;
  for (let k = 0; k < cases; k++) {
    const rng = seedrandom(`case-${k}`);
    const ratio = 0.25 + 1.5 * rng(); // known ratio in [0.25, 1.75]
    const n = 150;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = 0.3 * Math.exp(sigma * normal(rng));
      b[i] = a[i]! * ratio * Math.exp(noise * normal(rng));
    }
    const [p50, p95] = pairedBootstrapRatios(a, b, { percentiles: [50, 95], resamples: 1000, confidence: 0.95, rng: seedrandom(`boot-${k}`) });
    if (p50!.low! <= ratio && ratio <= p50!.high!) covered++;
    // log B ~ N(log a0 + log r, sigma² + noise²): its 95th percentile moves by z95·(sqrt(sigma²+noise²) − sigma) as well.
    const trueP95 = ratio * Math.exp(1.6448536269514722 * (Math.sqrt(sigma ** 2 + noise ** 2) - sigma));
    if (p95!.low! <= trueP95 && trueP95 <= p95!.high!) coveredP95++;
  }
  t.diagnostic(`p50 ratio coverage: ${covered}/${cases}; p95 ratio coverage (not asserted): ${coveredP95}/${cases}`);
  assert.ok(covered >= 93, `coverage ${covered}/${cases}`);
});

test('compareRuns end to end: the interval of the TTFT p50 ratio covers a known ratio in >= 93 of 100 cases', (t) => {
  let covered = 0;
  for (let k = 0; k < 100; k++) {
    const ratio = 0.3 + (k % 10) * 0.15;
    const [a, b] = syntheticPair({ n: 120, ratio, seed: `e2e-${k}` });
    const c = compareRuns([a, b], { resamples: 1000, seed: k });
    const m = c.rows.find((r) => r.phase === 'all')!.vs_baseline[0]!.metrics.find((x) => x.metric === 'ttft_p50')!;
    if (m.ci_low! <= ratio && ratio <= m.ci_high!) covered++;
  }
  t.diagnostic(`compareRuns coverage: ${covered}/100`);
  assert.ok(covered >= 93, `coverage ${covered}/100`);
});

test('same seed gives the same interval; another seed moves it only slightly', () => {
  const [a, b] = syntheticPair({ n: 80, ratio: 0.5, seed: 'det' });
  const ci = (seed: number) => compareRuns([a, b], { seed, resamples: 1000 }).rows.at(-1)!.vs_baseline[0]!.metrics[0]!;
  const one = ci(1);
  assert.deepEqual(ci(1), one);
  const two = ci(2);
  assert.notEqual(two.ci_low, one.ci_low);
  assert.equal(two.ratio, one.ratio); // the point estimate does not depend on resampling
  assert.ok(Math.abs(two.ci_low! - one.ci_low!) < 0.1 * one.ratio!);
});

test('fewer than 1000 resamples is refused', () => {
  const [a, b] = syntheticPair({ n: 10, ratio: 0.5, seed: 'x' });
  assert.throws(() => compareRuns([a, b], { resamples: 999 }), /resamples/);
});

test('one paired request gives a ratio but no interval', () => {
  const [p] = pairedBootstrapRatios([2], [1], { percentiles: [50], resamples: 1000, confidence: 0.95, rng: seedrandom('1') });
  assert.equal(p!.estimate, 0.5);
  assert.equal(p!.low, null);
  assert.equal(p!.high, null);
});

test('counting resamples gives exactly what resampling arrays and sorting them gives', () => {
  const rng = seedrandom('ref-data');
  const n = 57;
  const a = Float64Array.from({ length: n }, () => Math.exp(normal(rng)));
  const b = Float64Array.from(a, (v) => v * 0.7 * Math.exp(0.3 * normal(rng)));
  const percentiles = [50, 95, 99];
  const fast = pairedBootstrapRatios(a, b, { percentiles, resamples: 1000, confidence: 0.9, rng: seedrandom('same') });
  // Reference: the textbook bootstrap with the same draws.
  const draw = seedrandom('same');
  const ratios = percentiles.map(() => [] as number[]);
  for (let r = 0; r < 1000; r++) {
    const idx = Array.from({ length: n }, () => Math.floor(draw() * n));
    const ra = idx.map((i) => a[i]!);
    const rb = idx.map((i) => b[i]!);
    percentiles.forEach((p, k) => ratios[k]!.push(percentile(rb, p)! / percentile(ra, p)!));
  }
  percentiles.forEach((p, k) => {
    assert.equal(fast[k]!.low, percentile(ratios[k]!, 5), `p${p} low`);
    assert.equal(fast[k]!.high, percentile(ratios[k]!, 95), `p${p} high`);
    assert.equal(fast[k]!.estimate, percentile([...b], p)! / percentile([...a], p)!);
  });
});
