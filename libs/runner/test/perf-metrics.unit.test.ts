/** Joining /perf_metrics entries (TensorRT-LLM shape) to samples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sample } from '@kvbench/common';
import { joinPerfMetrics, perfEntryFromMetricsHeaders, serverMetrics, type JoinCandidate, type PerfEntry } from '@kvbench/runner';
import { fixtureJson } from './helpers.js';

const ns = (s: number) => BigInt(Math.round(s * 1e9));
const sample = (id: string): Sample => ({
  request_id: id, batch_index: 0, index_in_batch: 0, prompt_id: 'p', context_tokens: 576, phase: 'cold', scheduled_at_s: 0,
  ttft_s: 0.1, latency_s: 0.3, itl_s: [], prompt_tokens_client: 576, prompt_tokens_server: null, completion_tokens_client: 4,
  completion_tokens_server: null, cached_tokens: null, ok: true, error: null, server: null,
});
const cand = (id: string, first: number, end: number, responseId: string | null = null): JoinCandidate => ({
  sample: sample(id), responseId, scheduledAt: ns(1000), firstTextAt: ns(first), endAt: ns(end),
});
const near = (a: number | null | undefined, b: number) => assert.ok(typeof a === 'number' && Math.abs(a - b) < 1e-6, `${a} ≠ ${b}`);

test('time join on a shared clock: each entry goes to the request whose first token and end match', async () => {
  const entries = await fixtureJson<PerfEntry[]>('trtllm-perf-metrics.json');
  // Client observations (random completion ids, as trtllm-serve gives): slightly after the engine's emission.
  const cands = [cand('C', 1000.2513, 1000.4002, 'cmpl-a'), cand('A', 1000.1015, 1000.3004, 'cmpl-b'), cand('B', 1000.1812, 1000.5003, 'cmpl-c')];
  const clock = { offsetS: 0, how: 'test' };
  const { pairs, unmatchedEntries } = joinPerfMetrics(entries, cands, clock);
  assert.equal(unmatchedEntries.length, 0);
  const byReq = new Map(pairs.map((p) => [p.cand.sample.request_id, p.entry.request_id]));
  assert.deepEqual(Object.fromEntries(byReq), { A: 5, B: 6, C: 7 });
  const c = pairs.find((p) => p.entry.request_id === 7)!;
  const m = serverMetrics(c.entry, c.cand, clock, 1, c.by);
  near(m.queue_s, 0.02); // 1000.030 − 1000.010
  near(m.server_ttft_s, 0.24); // 1000.250 − 1000.010
  near(m.server_latency_s, 0.39);
  near(m.first_scheduled_s, 0.03); // engine first scheduled − client scheduled (1000.000)
  assert.equal(m.reused_blocks, 8);
  assert.equal(m.missed_blocks, 1);
  // A time-scaled simulator: durations divided by S.
  near(serverMetrics(c.entry, c.cand, clock, 0.5, c.by).server_ttft_s, 0.48);
});

test('id join when the engine reports the completion id; no time join without a clock relation', async () => {
  const entries = (await fixtureJson<PerfEntry[]>('trtllm-perf-metrics.json')).map((e, i) => ({ ...e, response_id: `cmpl-sim-${i}` }));
  const cands = [cand('X', 2000, 2001, 'cmpl-sim-2'), cand('Y', 2000, 2001, 'cmpl-sim-0')];
  const { pairs, unmatchedEntries } = joinPerfMetrics(entries, cands, { offsetS: null, how: 'unknown' });
  assert.deepEqual(pairs.map((p) => [p.cand.sample.request_id, p.entry.request_id, p.by]), [['Y', 7, 'id'], ['X', 6, 'id']]);
  assert.equal(unmatchedEntries.length, 1); // entry 1 has no candidate, and no clock to try by time
});

test("TensorRT-LLM main's trailing trtllm.perf_metrics event (response headers as JSON) → a timing entry, no KV counts", () => {
  // The example of tensorrt_llm/serve's metrics module docstring, with the e2e duration its headers carry.
  const e = perfEntryFromMetricsHeaders({
    'Server-Timing': 'server_queue;dur=1.250000, server_ttft;dur=8.500000, server_e2e;dur=24.000000',
    'X-TRTLLM-Start-End-Time': 'server-start;ts=12345.123456, server-end;ts=12345.147456',
    'X-TRTLLM-Step-Metrics': 'server-step-0-forward;dur=2.100000',
  })!;
  const t = e.perf_metrics!.timing_metrics!;
  assert.equal(t.arrival_time, 12345.123456);
  assert.equal(t.last_token_time, 12345.147456);
  assert.ok(Math.abs(t.first_scheduled_time! - (12345.123456 + 0.00125)) < 1e-9);
  assert.ok(Math.abs(t.first_token_time! - (12345.123456 + 0.0085)) < 1e-9);
  assert.equal(e.perf_metrics!.kv_cache_metrics, undefined);
  assert.equal(perfEntryFromMetricsHeaders({ 'Server-Timing': 'server_ttft;dur=8.5' }), null, 'durations without a timestamp are not placed');
});
