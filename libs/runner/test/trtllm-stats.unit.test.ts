/** log_metrics from TensorRT-LLM statistics payloads (fixtures), against hand-computed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogMetrics } from '@kvbench/common';
import { fillFromTrtllmPrometheus, parsePrometheusText, TrtllmWindow, type IterationStats, type KvCacheEvent } from '@kvbench/runner';
import { fixtureJson, fixtureText } from './helpers.js';

interface MetricsFixture {
  pre_window: IterationStats[];
  window: IterationStats[][];
}
const close = (actual: number | null | undefined, expected: number, what: string) => {
  assert.ok(typeof actual === 'number', `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
};

test('newer build: kvCacheIterationStats deltas summed over the window (all window sizes), pre-window entries ignored', async () => {
  const f = await fixtureJson<MetricsFixture>('trtllm-metrics-newer.json');
  const w = new TrtllmWindow();
  w.addPreWindow(f.pre_window);
  for (const payload of f.window) w.addIterations(payload);
  const m = LogMetrics.parse(w.logMetrics());
  // reused 0+0+24+6+0 = 30, missed 32+16+8+2+0 = 58
  assert.equal(m.reused_blocks, 30);
  close(m.cache_hit_rate, 30 / 88, 'cache_hit_rate');
  assert.equal(m.offloaded_blocks, 12); // 8 + 4
  assert.equal(m.offloaded_bytes, 25_165_824); // 16777216 + 8388608
  assert.equal(m.onboarded_blocks, 12);
  assert.equal(m.onboarded_bytes, 25_165_824);
  // No transfer time reported: bytes over the latency of the iterations that moved them.
  close(m.observed_offload_bandwidth_gbps, 25_165_824 / 0.065 / 1e9, 'offload bandwidth'); // iters 12 (25 ms) + 13 (40 ms)
  close(m.observed_onboard_bandwidth_gbps, 25_165_824 / 0.04 / 1e9, 'onboard bandwidth'); // iter 13 (40 ms)
  for (const k of ['cache_hit_rate', 'reused_blocks', 'offloaded_blocks', 'observed_offload_bandwidth_gbps', 'onboarded_bytes']) {
    assert.ok(m.sources[k], `source of ${k}`);
  }
  assert.match(m.sources['reused_blocks']!, /kvCacheIterationStats/);
  assert.match(m.sources['observed_offload_bandwidth_gbps']!, /iterLatencyMS.*lower bound/);
  assert.deepEqual(m.null_reasons, {});
});

test('reported transfer time is the bandwidth denominator when present (simulator: sim.transferS)', () => {
  const w = new TrtllmWindow();
  w.addIterations([
    { iter: 1, iterLatencyMS: 100, sim: { transferS: 0.004 }, kvCacheIterationStats: { '64': { iterOffloadBlocks: 2, iterOffloadBytes: 100_000_000 } } },
    { iter: 2, iterLatencyMS: 100, kvCacheIterationStats: { '64': { iterOnboardBlocks: 1, iterOnboardBytes: 50_000_000, iterOnboardTimeMS: 2 } } },
  ]);
  const m = w.logMetrics();
  close(m.observed_offload_bandwidth_gbps, 100_000_000 / 0.004 / 1e9, 'offload'); // 25 GB/s
  close(m.observed_onboard_bandwidth_gbps, 50_000_000 / 0.002 / 1e9, 'onboard'); // 25 GB/s
  assert.match(m.sources['observed_offload_bandwidth_gbps']!, /transfer time the engine reported/);
  assert.equal(m.cache_hit_rate, null);
  assert.match(m.null_reasons['cache_hit_rate']!, /no block lookups/);
});

test('older build: cumulative kvCacheStats end − start, offloads and onboards counted from /kv_cache_events', async () => {
  const f = await fixtureJson<MetricsFixture>('trtllm-metrics-older.json');
  const ev = await fixtureJson<{ window: KvCacheEvent[][] }>('trtllm-kv-cache-events.json');
  const w = new TrtllmWindow();
  w.addPreWindow(f.pre_window);
  for (const payload of f.window) w.addIterations(payload);
  for (const payload of ev.window) w.addEvents(payload);
  const m = LogMetrics.parse(w.logMetrics());
  assert.equal(m.reused_blocks, 60); // 160 − 100
  close(m.cache_hit_rate, 60 / 100, 'cache_hit_rate'); // Δmissed = 340 − 300 = 40
  assert.match(m.sources['reused_blocks']!, /kvCacheStats\.reusedBlocks, end − start/);
  assert.equal(m.offloaded_blocks, 3); // events 3, 4, 7
  assert.equal(m.onboarded_blocks, 2); // events 6, 9
  assert.match(m.sources['offloaded_blocks']!, /kv_cache_events/);
  for (const k of ['offloaded_bytes', 'onboarded_bytes', 'observed_offload_bandwidth_gbps', 'observed_onboard_bandwidth_gbps']) {
    assert.equal((m as Record<string, unknown>)[k], null, k);
    assert.match(m.null_reasons[k]!, /no kvCacheIterationStats/, k);
  }
});

test('older build without a working /kv_cache_events: offload counts null with the reason', async () => {
  const f = await fixtureJson<MetricsFixture>('trtllm-metrics-older.json');
  const w = new TrtllmWindow();
  for (const payload of f.window) w.addIterations(payload);
  w.eventsFailed('POST /kv_cache_events answered 404');
  w.freshEngine = true;
  const m = w.logMetrics();
  assert.equal(m.offloaded_blocks, null);
  assert.match(m.null_reasons['offloaded_blocks']!, /answered 404/);
  // No pre-window snapshot of a freshly launched engine: counted from zero, and said so.
  assert.equal(m.reused_blocks, 160);
  assert.match(m.sources['reused_blocks']!, /since engine start/);
});

test('no iteration statistics at all: every field null with a reason, never zero', () => {
  const m = new TrtllmWindow().logMetrics();
  for (const k of ['cache_hit_rate', 'reused_blocks', 'offloaded_blocks', 'observed_offload_bandwidth_gbps']) {
    assert.equal((m as Record<string, unknown>)[k], null, k);
    assert.ok(m.null_reasons[k], `reason for ${k}`);
  }
});

test('newest build whose own collector drains /metrics: reuse and bytes from /prometheus/metrics counter deltas', async () => {
  const before = parsePrometheusText(await fixtureText('trtllm-prometheus-before.txt'));
  const after = parsePrometheusText(await fixtureText('trtllm-prometheus-after.txt'));
  const empty = new TrtllmWindow().logMetrics(); // /metrics gave nothing
  const m = LogMetrics.parse(fillFromTrtllmPrometheus(empty, before, after));
  assert.equal(m.reused_blocks, 90); // 130 − 40
  close(m.cache_hit_rate, 90 / 150, 'cache_hit_rate'); // missed 220 − 160 = 60
  assert.equal(m.offloaded_bytes, 33_554_432 - 1_048_576);
  assert.equal(m.onboarded_bytes, 20_971_520);
  assert.match(m.sources['reused_blocks']!, /trtllm_kv_cache_iter_reused_blocks_total/);
  assert.equal(m.null_reasons['reused_blocks'], undefined);
  // What the counters cannot say stays null, with the reason.
  assert.equal(m.offloaded_blocks, null);
  assert.ok(m.null_reasons['offloaded_blocks']);
  assert.equal(m.observed_offload_bandwidth_gbps, null);
  assert.match(m.null_reasons['observed_offload_bandwidth_gbps']!, /no transfer time/);
});
