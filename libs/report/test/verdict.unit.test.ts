import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareRuns, verdictFor } from '@kvbench/report';
import { syntheticPair } from './fixtures.js';

const base = { system: 'c2c', baseline: 'pcie', metricName: 'TTFT p50', confidence: 0.95, context_tokens: 65536, phase: 'reuse' as const };

test('significant lower: stated as a factor with the inverted interval', () => {
  const v = verdictFor({ ...base, ratio: 1 / 3.1, ci: [1 / 3.4, 1 / 2.8] });
  assert.equal(v.text, 'C2C TTFT p50 3.1× lower than PCIe on reuse at 64K tokens, 95% CI 2.8–3.4×');
  assert.equal(v.significant, true);
});

test('significant higher', () => {
  const v = verdictFor({ ...base, phase: 'cold', context_tokens: 8192, ratio: 1.25, ci: [1.1, 1.4] });
  assert.equal(v.text, 'C2C TTFT p50 1.25× higher than PCIe on cold at 8K tokens, 95% CI 1.10–1.40×');
  assert.equal(v.significant, true);
});

test('interval holding 1: no meaningful difference, with the interval and why', () => {
  const v = verdictFor({ ...base, ratio: 0.97, ci: [0.9, 1.05] });
  assert.equal(v.text, 'C2C TTFT p50 on reuse at 64K tokens: no meaningful difference from PCIe (ratio 0.97, 95% CI 0.90–1.05; the interval holds 1)');
  assert.equal(v.significant, false);
  assert.equal(v.meaningful, false);
});

test('an interval that excludes 1 but an effect under the threshold is no meaningful difference', () => {
  const v = verdictFor({ ...base, ratio: 0.97, ci: [0.96, 0.98] });
  assert.equal(v.significant, true);
  assert.equal(v.meaningful, false);
  assert.equal(v.text, 'C2C TTFT p50 on reuse at 64K tokens: no meaningful difference from PCIe (ratio 0.97, 95% CI 0.96–0.98; 3.1% is under the 5% threshold)');
  // The threshold is the caller's: at 2% the same 3.1% effect is called.
  const at2 = verdictFor({ ...base, ratio: 0.97, ci: [0.96, 0.98], minEffect: 0.02 });
  assert.equal(at2.meaningful, true);
  assert.match(at2.text, /^C2C TTFT p50 1\.03× lower than PCIe/);
});

test('a host-bound run says so beside its verdict', () => {
  const v = verdictFor({ ...base, ratio: 0.5, ci: [0.45, 0.55], hostBound: true });
  assert.equal(v.meaningful, true);
  assert.match(v.text, /\[host-bound: /);
  assert.doesNotMatch(verdictFor({ ...base, ratio: 0.5, ci: [0.45, 0.55] }).text, /host-bound/);
});

test('compareRuns verdicts follow the data: a 3× speed-up is significant, equal systems are not', () => {
  const [a, b] = syntheticPair({ n: 150, ratio: 1 / 3, seed: 'fast', contexts: [65536] });
  const fast = compareRuns([a, b]).rows.find((r) => r.phase === 'reuse')!.vs_baseline[0]!.metrics[0]!;
  assert.equal(fast.significant, true);
  assert.match(fast.verdict, /^C2C TTFT p50 (2\.\d|3\.\d)× lower than PCIe on reuse at 64K tokens, 95% CI \d\.\d–\d\.\d×$/);

  const [c, d] = syntheticPair({ n: 150, ratio: 1, seed: 'same', contexts: [65536] });
  const same = compareRuns([c, d]).rows.find((r) => r.phase === 'reuse')!.vs_baseline[0]!.metrics[0]!;
  assert.equal(same.meaningful, false);
  assert.match(same.verdict, /no meaningful difference from PCIe/);
});

test('run-level figures get a ratio and say they have no interval', () => {
  const [a, b] = syntheticPair({ n: 20, ratio: 0.5, seed: 'rl' });
  b.log_metrics.observed_offload_bandwidth_gbps = 60;
  const m = compareRuns([a, b]).rows.at(-1)!.vs_baseline[0]!.metrics.find((x) => x.metric === 'offload_bandwidth')!;
  assert.equal(m.ratio, 3);
  assert.equal(m.ci_low, null);
  assert.equal(m.verdict, 'C2C offload bandwidth 3.0× higher than PCIe across all requests (run-level figure, one value per run: no interval)');
});
