/**
 * The scheduler end to end: runBenchmark attached to the simulator through a recording proxy, so
 * the requests are observed on the wire and answered by the real engine model.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RunResult, type AnyWorkload, type Job, type Sample } from '@kvbench/common';
import { completionBody, runBenchmark } from '@kvbench/runner';
import { generateDocqa, generateMultiturn, generateWorkload, importMooncake, PromptTokens, workloadRequests } from '@kvbench/workload';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { collector, makeJob, spawnSimulator, tempDir } from './helpers.js';
import { startRecordingProxy } from './recording-proxy.js';

let dir: { path: string; cleanup(): Promise<void> };
// The simulator as a process (the runner, a library, does not import the service; see helpers.ts).
let sim: { url: string; stop(): Promise<void>; timeScale: number };
before(async () => {
  dir = await tempDir();
  const cfg = join(dir.path, 'sim-config.yaml');
  await writeFile(cfg, stringify({ kv_cache_config: { max_tokens: 16384, tokens_per_block: 64, host_cache_size: 1024 ** 3, enable_block_reuse: true }, enable_iter_perf_stats: true, return_perf_metrics: true, perf_metrics_max_requests: 1000 }));
  const s = await spawnSimulator(['meta-llama/Llama-3.1-8B-Instruct', '--config', cfg, '--system', 'pcie', '--max_batch_size', '8', '--max_seq_len', '8192']);
  const version = (await (await fetch(new URL('/version', s.url))).json()) as { time_scale: number };
  sim = { ...s, timeScale: version.time_scale };
});
after(async () => {
  await sim.stop();
  await dir.cleanup();
});

async function runThrough(workload: AnyWorkload, over: Partial<Job> = {}, tamper?: (n: number) => boolean) {
  const proxy = await startRecordingProxy(sim.url, tamper);
  try {
    const c = collector();
    const job = makeJob({ engine: { kind: 'trtllm', url: proxy.url, options: {} }, max_seq_len: 8192, ...over });
    const result = await runBenchmark({ job, workload, attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false, maxFailedRequests: 1000 } });
    RunResult.parse(result);
    return { result, job, sent: proxy.completions };
  } finally {
    await proxy.close();
  }
}

const byId = (samples: Sample[]) => new Map(samples.map((s) => [s.request_id, s]));

test('original batches: the same requests, text bodies byte for byte, in workload order, each batch after the whole previous one', async () => {
  const workload = generateWorkload({ contexts: [256], batches_per_context: 4, batch_sizes: [2, 3], prompt_pool_size: 2, reuse_start_batch: 2, delay_ms: 5, seed: 3 });
  const expected = [...workloadRequests(workload)];
  // One at a time: the wire order is the workload order.
  const serial = await runThrough(workload, { max_batch_size: 1 });
  assert.deepEqual(serial.sent.map((r) => r.raw.toString()), expected.map((e) => completionBody(serial.job, e.prompt).toString()));
  for (const s of serial.result.samples) assert.equal(s.scenario, undefined, 'legacy samples carry no scenario tags');
  // Concurrent: a batch is released only once every request of the previous one has finished.
  const wide = await runThrough(workload, { max_batch_size: 4 });
  const prompts = new Map(workload.prompts.map((p) => [p.text, p.id]));
  let at = 0;
  for (const batch of workload.batches) {
    const sent = wide.sent.slice(at, at + batch.requests.length);
    assert.deepEqual(sent.map((r) => prompts.get(r.body.prompt)).sort(), batch.requests.map((r) => r.prompt_id).sort());
    const prevEnd = Math.max(...wide.sent.slice(0, at).map((r) => r.endedMs), -Infinity);
    for (const r of sent) assert.ok(r.arrivedMs >= prevEnd, 'no request before the previous batch has finished');
    at += batch.requests.length;
  }
  const samples = byId(wide.result.samples);
  for (const b of workload.batches) {
    const released = b.requests.map((r) => samples.get(r.request_id)!.scheduled_at_s);
    assert.ok(released.every((t) => t === released[0]), 'a batch is released at one moment');
  }
});

test('multiturn on the simulator: ids sent are the document segments, sessions capped, think time kept, later turns faster', async () => {
  const workload = generateMultiturn({
    sessions: 4, turns: 3, shared_prefix_tokens: 256, session_context_tokens: 1024, turn_tokens: 64, answer_tokens: 8, active_sessions: 2, think_time_ms: 30, seed: 5,
  });
  const { result, sent } = await runThrough(workload, { max_batch_size: 8 });
  const tokens = new PromptTokens(workload);
  const prompts = new Map(workload.prompts.map((p) => [p.id, p]));
  const requestOf = new Map<string, string>();
  for (const r of workload.requests) requestOf.set(JSON.stringify(Array.from(tokens.ids(prompts.get(r.prompt_id)!))), r.request_id);
  // Every body's prompt is exactly one request's ids, each request sent once, with its answer length.
  const seen = sent.map((r) => {
    assert.ok(Array.isArray(r.body.prompt), 'token ids, not text');
    const id = requestOf.get(JSON.stringify(r.body.prompt));
    assert.ok(id, 'the ids sent are a document prompt');
    assert.equal(r.body.max_tokens, 8);
    return { id, ...r };
  });
  assert.deepEqual(seen.map((s) => s.id).sort(), workload.requests.map((r) => r.request_id).sort());
  // Lengths: P + C + (t − 1)(U + A) + U.
  for (const s of result.samples) {
    assert.ok(s.ok, `${s.request_id}: ${s.error}`);
    assert.equal(s.prompt_tokens_server, s.prompt_tokens_client);
    assert.equal(s.context_tokens, 256 + 1024 + (s.scenario!.turn! - 1) * (64 + 8) + 64);
    assert.equal(s.scenario!.kind, 'multiturn');
  }
  // At most 2 sessions in flight at once (at the engine), and think time between a session's turns.
  const session = (id: string) => id.split('-')[0]!;
  for (const s of seen) {
    const concurrentSessions = new Set(seen.filter((o) => o.arrivedMs <= s.arrivedMs && o.endedMs > s.arrivedMs).map((o) => session(o.id)));
    assert.ok(concurrentSessions.size <= 2, `${concurrentSessions.size} sessions in flight`);
  }
  const sim_scale = sim.timeScale;
  for (const s of seen) {
    const turn = Number(s.id.split('-t')[1]);
    if (turn === 1) continue;
    const prev = seen.find((o) => o.id === `${session(s.id)}-t${String(turn - 1).padStart(2, '0')}`)!;
    assert.ok(s.arrivedMs - prev.endedMs >= 30 * sim_scale - 1, `think time before ${s.id}: ${s.arrivedMs - prev.endedMs} ms`);
  }
  // The sessions' KV fits the GPU pool: later turns reuse the history and come back faster.
  const firstTurn = result.samples.filter((s) => s.scenario!.turn === 1 && s.scenario!.session_id === 's0');
  const later = result.samples.filter((s) => s.scenario!.turn! > 1);
  assert.ok(later.every((s) => (s.cached_tokens ?? 0) >= 1024), 'history reused');
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Compared on the simulator's modelled prefill (its /perf_metrics sim.prefill_s), not the client's real
  // TTFT: on a loaded machine real delays can swamp the modelled difference.
  const prefill = (s: Sample) => {
    assert.equal(typeof s.breakdown?.prefill_s, 'number', `${s.request_id} prefill_s: ${s.breakdown?.null_reasons.prefill_s}`);
    return s.breakdown!.prefill_s!;
  };
  assert.ok(median(later.map(prefill)) < prefill(firstTurn[0]!), 'later turns prefill less than a cold first turn');
});

test('docqa with Poisson arrivals: released at the planned times, capped; a miscounting engine makes that sample an error', async () => {
  const workload = generateDocqa({ documents: 3, document_tokens: 512, question_tokens: 32, rounds: 2, arrival: 'poisson', rate: 40, max_concurrency: 2, seed: 2 });
  const { result, sent } = await runThrough(workload, { max_batch_size: 8 }, (n) => n === 4);
  const samples = byId(result.samples);
  const scale = sim.timeScale;
  // The schedule's origin is when the first bodies are ready; from there every release is the plan's moment.
  const origin = samples.get(workload.requests[0]!.request_id)!.scheduled_at_s * 1000 - (workload.requests[0]!.release as { at_ms: number }).at_ms;
  assert.ok(origin >= 0);
  workload.requests.forEach((r) => {
    const s = samples.get(r.request_id)!;
    const at = r.release.type === 'at' ? r.release.at_ms : NaN;
    assert.ok(Math.abs(s.scheduled_at_s * 1000 - origin - at) < 1e-3, `${r.request_id} released at its planned time`);
    assert.equal(s.scenario!.round, Number(r.request_id[1]));
    assert.equal(s.scenario!.release, 'time');
  });
  let inFlight = 0;
  const edges = sent.flatMap((r) => [{ t: r.arrivedMs, d: 1 }, { t: r.endedMs, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  for (const e of edges) assert.ok((inFlight += e.d) <= 2, 'max_concurrency 2');
  const bad = result.samples.filter((s) => !s.ok);
  assert.equal(bad.length, 1);
  assert.match(bad[0]!.error!, /engine counted \d+ prompt tokens, kvbench sent 544 token ids/);
  void scale;
});

test('Mooncake trace on the simulator: requests at the trace times (scaled), blocks shared by hash id reused, partial blocks sent as prefixes', async () => {
  // 64-token simulator blocks inside 128-token trace blocks: equal hash ids give equal KV blocks.
  const line = (timestamp: number, input_length: number, hash_ids: number[]) => JSON.stringify({ timestamp, input_length, output_length: 2, hash_ids });
  const trace = [line(0, 300, [1, 2, 3]), line(40, 256, [1, 2]), line(80, 200, [7, 8]), line(120, 320, [1, 2, 4])].join('\n');
  const workload = importMooncake(trace, { blockTokens: 128, timeScale: 0.5 });
  const { result, sent } = await runThrough(workload, { max_batch_size: 4 });
  const tokens = new PromptTokens(workload);
  const samples = byId(result.samples);
  for (const [i, r] of workload.requests.entries()) {
    const s = samples.get(r.request_id)!;
    assert.ok(s.ok, `${r.request_id}: ${s.error}`);
    assert.equal(s.prompt_tokens_server, s.prompt_tokens_client);
    assert.equal(s.scenario!.trace_line, i + 1);
    const origin = samples.get('L1')!.scheduled_at_s * 1000;
    assert.ok(Math.abs(s.scheduled_at_s * 1000 - origin - [0, 20, 40, 60][i]!) < 1e-3, 'released at timestamp × 0.5 ms');
    assert.equal(s.completion_tokens_server, 2, "each line generates its own output_length");
  }
  const bodies = new Map(sent.map((r) => [JSON.stringify(r.body.prompt), r.body]));
  for (const p of workload.prompts) assert.ok(bodies.has(JSON.stringify(Array.from(tokens.ids(p)))), `${p.id} sent as its ids`);
  // Lines 2 and 4 begin with hash ids 1, 2 (256 tokens = 4 simulator blocks) of line 1.
  assert.equal(samples.get('L2')!.cached_tokens, 255, 'the whole 256-token prompt matched; its last token is recomputed');
  assert.equal(samples.get('L4')!.cached_tokens, 256);
  assert.equal(samples.get('L3')!.cached_tokens, 0);
});
