/**
 * The TTFT breakdown against an engine whose timings are known (timed-trtllm.ts), attached by URL
 * like a remote trtllm-serve: engine times reach the agent's clock only through /steady_clock_offset.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { BREAKDOWN_PARTS, RunResult, type RunResult as RunResultT } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { collector, makeJob, tempDir, tinyWorkload } from './helpers.js';
import type { Truth } from './timed-trtllm.js';

let engine: ChildProcess;
let result: RunResultT;
let truth: Map<number, Truth>;
let dir: { path: string; cleanup(): Promise<void> };

before(async () => {
  dir = await tempDir();
  const opts = { shiftS: 5000, tokenizeMs: 15, queueMs: 30, prefillMs: 50, tokensPerBlock: 64, reusedBlocks: 0 };
  engine = spawn(process.execPath, [fileURLToPath(new URL('./timed-trtllm-main.js', import.meta.url)), JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(engine.stdout!, 'data')) as [Buffer];
  const url = /listening on (\S+)/.exec(line.toString())![1]!;
  const c = collector();
  // max_batch_size 1: the client sends one request at a time, so the others of a batch wait in the client.
  const job = makeJob({ engine: { kind: 'trtllm', url, options: {} }, max_batch_size: 1, output_tokens: 3 });
  result = await runBenchmark({ job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false, statsIntervalMs: 100 } });
  const all = (await (await fetch(`${url}/test/truth`)).json()) as Truth[];
  truth = new Map(all.map((t) => [t.id, t]));
});
after(async () => {
  engine?.kill('SIGTERM');
  await dir?.cleanup();
});

// Every check below is arithmetic or causality, never a real-clock precision: on a loaded machine the
// engine's sleeps stretch and the agent's callbacks run late, and none of that may fail the test.
// Engine-clock spans are differences of the engine's own timestamps, so they equal the truth up to
// floating-point rounding (EPS); across the two clocks the offset's error is bounded by half the best
// round trip, which the run reports (clock_error_s). The precision itself is a bench figure.
const EPS = 1e-9;
const exactly = (got: number | null | undefined, want: number, what: string) =>
  assert.ok(typeof got === 'number' && Math.abs(got - want) <= EPS, `${what}: ${got} vs ${want}`);

test('engine parts are the engine spans exactly; the parts sum to TTFT; the cross-clock parts hold causality', () => {
  RunResult.parse(result);
  assert.equal(result.samples.length, 5);
  for (const s of result.samples) {
    const b = s.breakdown!;
    if (process.env.KVBENCH_TEST_VERBOSE) console.log(s.request_id, JSON.stringify(b), JSON.stringify(truth.get(Number((s.server as Record<string, unknown>).engine_request_id))));
    assert.ok(b, `${s.request_id} has a breakdown`);
    assert.match(b.clock ?? '', /steady_clock_offset/, 'engine times related through /steady_clock_offset');
    assert.equal(b.joined_by, 'id');
    const t = truth.get(Number((s.server as Record<string, unknown>).engine_request_id))!;
    assert.ok(t, `${s.request_id} joined to a real engine request`);
    exactly(b.engine_queue_s, t.scheduled - t.arrival, `${s.request_id} engine_queue_s`);
    exactly(b.first_token_s, t.firstToken - t.scheduled, `${s.request_id} first_token_s`);
    const err = b.clock_error_s!;
    assert.ok(err >= 0, `clock error bound ${err}`);
    // First token → first text holds the engine's write and the hop back: the client reads the chunk only
    // after the engine wrote it, so up to the offset's error it is at least that write.
    // A cross-clock part that came out negative (within the offset's error) is null with the reason, never negative.
    for (const k of ['to_engine_s', 'to_client_s'] as const) if (b[k] === null) assert.match(b.null_reasons[k] ?? '', /came out negative/, `${s.request_id} ${k}`);
    if (b.to_client_s !== null) assert.ok(b.to_client_s! >= t.firstTokenWritten - t.firstToken - err - EPS, `${s.request_id} to_client_s ${b.to_client_s}`);
    if (BREAKDOWN_PARTS.every((k) => b[k] !== null)) {
      const sum = BREAKDOWN_PARTS.reduce((a, k) => a + (b[k] as number), 0);
      exactly(sum, s.ttft_s!, `${s.request_id} Σ parts vs ttft_s`);
    }
    // A real engine does not split onboarding from prefill: null, with the reason.
    assert.equal(b.onboard_s, null);
    assert.match(b.null_reasons.onboard_s ?? '', /do not split/);
  }
});

test('the engine clock is related through /steady_clock_offset: the true shift lies within the reported error bound', () => {
  // Agent and engine share this host's CLOCK_MONOTONIC; the engine reports it shifted by 5000 s. NTP's
  // bound is exact whatever the load: the true offset is within half the kept exchange's round trip.
  const join = (result.run_meta as Record<string, any>).perf_metrics_join;
  const err = result.samples[0]!.breakdown!.clock_error_s!;
  assert.ok(Math.abs(join.clock_offset_s - 5000) <= err + EPS, `estimated offset ${join.clock_offset_s}, error bound ${err}`);
  assert.equal(join.joined, 5);
});

test('a client kept waiting by the concurrency cap shows it in client_wait_s, not engine_queue_s', () => {
  const batch0 = result.samples.filter((s) => s.batch_index === 0).sort((a, b) => a.index_in_batch - b.index_in_batch);
  assert.equal(batch0.length, 3);
  // One request in flight: the k-th is written when the (k−1)-th ends, i.e. after its latency.
  // (The first request's wait is its connection set-up: the keep-alive pool starts empty.)
  assert.ok(batch0[0]!.breakdown!.client_wait_s! < batch0[0]!.latency_s!);
  for (let k = 1; k < batch0.length; k++) {
    // Causality on the agent's clock: the k-th is written only after the (k−1)-th ended, so release +
    // wait reaches past the previous release + latency (scheduled_at_s and the spans share one clock).
    const prev = batch0[k - 1]!;
    const cur = batch0[k]!;
    assert.ok(cur.scheduled_at_s + cur.breakdown!.client_wait_s! >= prev.scheduled_at_s + prev.latency_s! - EPS, `request ${k} waited for request ${k - 1}`);
    // The engine saw it only once written: its queue is its own span, not the client's wait.
    const t = truth.get(Number((cur.server as Record<string, unknown>).engine_request_id))!;
    exactly(cur.breakdown!.engine_queue_s, t.scheduled - t.arrival, `request ${k} engine_queue_s`);
  }
});

test('tokens: cached from the per-request reused-block count, tiers null with the reason', () => {
  for (const s of result.samples) {
    const tk = s.tokens!;
    assert.equal(tk.cached, 0);
    assert.equal(tk.recomputed, s.prompt_tokens_server ?? s.prompt_tokens_client);
    assert.equal(tk.gpu_hit, null);
    assert.match(tk.null_reasons.gpu_hit ?? '', /GPU or onboarded from host/);
  }
});
