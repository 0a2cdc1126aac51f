/** Reports along a scenario's own axis: multi-turn by turn, trace CDF and over time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareRuns, renderComparisonTable } from '@kvbench/report';
import { multiturnPair, shapedPair } from './fixtures.js';

test('multi-turn: TTFT p50/p90 with intervals, hit rate and the paired ratio per turn', () => {
  const [a, b] = multiturnPair(8, 5);
  const c = compareRuns([a, b]);
  const m = c.scenarios.multiturn!;
  assert.deepEqual(m.turns, [1, 2, 3, 4, 5]);
  const pcie = m.systems.pcie!;
  assert.equal(pcie.length, 5);
  for (const t of pcie) {
    assert.equal(t.n, 8);
    assert.ok(t.ttft_p50_s.low! <= t.ttft_p50_s.value! && t.ttft_p50_s.value! <= t.ttft_p50_s.high!);
    assert.ok(t.ttft_p90_s.value! >= t.ttft_p50_s.value!);
  }
  // Σ cached / Σ prompt: turn 1 nothing, turn 3 two thirds.
  assert.equal(pcie[0]!.hit_rate, 0);
  assert.ok(Math.abs(pcie[2]!.hit_rate! - 2 / 3) < 1e-12);
  const vs = m.vs_baseline[0]!;
  assert.equal(vs.system, 'c2c');
  assert.equal(vs.points[0]!.paired, 8);
  // Turn 1 recomputes on both (same model): ratio about 1; later turns reload a history C2C moves faster.
  assert.ok(vs.points[4]!.ratio! < vs.points[0]!.ratio!);
  assert.ok(vs.points[4]!.ci_high! < 1);
  assert.equal(c.scenarios.trace, null);
  assert.match(renderComparisonTable(c), /Multi-turn, by turn/);
});

test('trace: CDF from 0 to 100% and one point per request over time', () => {
  const [a, b] = multiturnPair(6, 4, 'trace');
  const c = compareRuns([a, b]);
  const t = c.scenarios.trace!.systems.pcie!;
  assert.equal(t.n, 24);
  assert.equal(t.cdf.length, 24);
  assert.equal(t.cdf.at(-1)![1], 1);
  for (let i = 1; i < t.cdf.length; i++) assert.ok(t.cdf[i]![0] >= t.cdf[i - 1]![0] && t.cdf[i]![1] > t.cdf[i - 1]![1]);
  assert.equal(t.over_time.length, 24);
  assert.equal(c.scenarios.multiturn, null);
});

test('the original batches have no scenario sections', () => {
  const [a, b] = shapedPair();
  assert.deepEqual(compareRuns([a, b]).scenarios, { multiturn: null, trace: null });
});
