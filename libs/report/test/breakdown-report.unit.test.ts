/** The comparison's breakdown, goodput and settings sections, and how the terminal table shows them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '@kvbench/common';
import { breakdownStats, compareRuns, parseSlo, renderComparisonTable } from '@kvbench/report';
import { breakdownPair, run, sample, shapedPair } from './fixtures.js';

test('the p50 split: parts of the requests around the median, adding up to their mean TTFT', () => {
  const [a] = breakdownPair();
  const reuse = a.samples.filter((s) => s.context_tokens === 32768 && s.phase === 'reuse');
  const b = breakdownStats(reuse);
  assert.equal(b.n, 12);
  assert.equal(b.n_complete, 12);
  const split = b.median_split!;
  assert.ok(split.n >= 1 && split.n < 12, 'a band around the median, not every request');
  assert.deepEqual(split.parts.map((p) => p.part), ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'onboard_s', 'prefill_s', 'batch_other_s', 'to_client_s']);
  const sum = split.parts.reduce((x, p) => x + p.seconds, 0);
  assert.ok(Math.abs(sum - split.ttft_mean_s!) < 1e-12);
  const sorted = reuse.map((s) => s.ttft_s!).sort((x, y) => x - y);
  assert.ok(split.ttft_mean_s! >= sorted[4]! && split.ttft_mean_s! <= sorted[7]!, 'within the middle of the distribution');
});

test('each part\'s p50 ratio to the baseline, paired: the onboard part is where C2C wins on reuse', () => {
  const c = compareRuns(breakdownPair());
  const row = c.breakdown.find((r) => r.context_tokens === 65536 && r.phase === 'reuse')!;
  const vs = row.vs_baseline[0]!;
  assert.equal(vs.system, 'c2c');
  const part = (p: string) => vs.parts.find((x) => x.part === p)!;
  assert.equal(part('onboard_s').paired, 12);
  assert.ok(part('onboard_s').ci_high! < 0.5, `onboard ratio ${part('onboard_s').ratio}`);
  assert.ok(Math.abs(part('client_wait_s').ratio! - 1) < 1e-12, 'the same client wait on both');
  const cold = c.breakdown.find((r) => r.context_tokens === 65536 && r.phase === 'cold')!;
  assert.equal(cold.vs_baseline[0]!.parts.find((x) => x.part === 'onboard_s')!.ratio, null, 'nothing onboarded: no ratio of zeros');
  assert.match(renderComparisonTable(c), /Each part's p50, system \/ baseline, paired \[95% CI\]/);
});

test('samples without a breakdown: no split, and the reason', () => {
  const [a] = shapedPair();
  const b = breakdownStats(a.samples);
  assert.equal(b.median_split, null);
  assert.match(b.null_reasons.engine_queue_s!, /no breakdown/);
});

test('goodput at SLOs: requests meeting every objective per second, with the paired ratio', () => {
  const mk = (label: string, ttfts: number[]) =>
    run(label, `${label}-1`, ttfts.map((t, i) => sample({ request_id: `r${i}`, ttft_s: t, latency_s: t + 0.5, scheduled_at_s: i, batch_index: i })));
  // Windows: 0 → 9 + latency. pcie meets ttft ≤ 200 ms on 4 of 10, c2c on 8 of 10.
  const pcie = mk('pcie', [0.1, 0.15, 0.3, 0.4, 0.12, 0.5, 0.6, 0.18, 0.7, 0.8]);
  const c2c = mk('c2c', [0.05, 0.07, 0.15, 0.19, 0.06, 0.25, 0.3, 0.09, 0.12, 0.11]);
  const c = compareRuns([pcie, c2c], { slo: parseSlo('ttft_ms=200,latency_ms=2000') });
  const g = c.goodput!;
  assert.equal(g.systems.pcie!.met, 4);
  assert.equal(g.systems.c2c!.met, 8);
  const wp = 9 + 0.8 + 0.5;
  const wc = 9 + 0.11 + 0.5;
  assert.ok(Math.abs(g.systems.pcie!.goodput_req_per_s! - 4 / wp) < 1e-12);
  const v = g.vs_baseline[0]!;
  assert.ok(Math.abs(v.ratio! - (8 / wc) / (4 / wp)) < 1e-12);
  assert.ok(v.ci_low! <= v.ratio! && v.ratio! <= v.ci_high!);
  assert.match(renderComparisonTable(c), /Goodput at ttft_ms=200,latency_ms=2000/);
  assert.equal(compareRuns([pcie, c2c]).goodput, null);
});

test('--slo syntax is validated, naming the field', () => {
  assert.deepEqual(parseSlo('ttft_ms=500'), { ttft_ms: 500 });
  assert.deepEqual(parseSlo('ttft_ms:500, latency_ms:1500.5'), { ttft_ms: 500, latency_ms: 1500.5 });
  for (const bad of ['', 'ttft=5', 'ttft_ms=-1', 'ttft_ms=abc', 'tpot_ms=5']) {
    assert.throws(() => parseSlo(bad), (e: unknown) => e instanceof ValidationError && e.field === 'slo', bad);
  }
});

test('settings: a row per setting, the differing ones marked, ids and times not', () => {
  const [a, b] = breakdownPair();
  const c = compareRuns([a, b]);
  const row = (k: string) => c.settings.find((r) => r.setting === k)!;
  assert.equal(row('kv_config.max_tokens').differs, true);
  assert.deepEqual(row('kv_config.max_tokens').values, ['4096', '2048']);
  assert.equal(row('model').differs, false);
  assert.equal(row('run_id').identity, true);
  assert.equal(c.settings[0]!.setting, 'system_label', 'what decides fairness comes first');
  const text = renderComparisonTable(c);
  assert.match(text, /Where TTFT went/);
  assert.match(text, /Settings that differ between the runs/);
  assert.match(text, /kv_config\.max_tokens\s+4096\s+2048/);
  assert.match(text, /LRU GPU\+host/);
});
