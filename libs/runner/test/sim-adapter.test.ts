/**
 * The whole adapter against the simulator, launched through the same code path
 * as TensorRT-LLM: a `trtllm-serve` first on PATH records and checks its argv and
 * config file, then runs the simulator; the run goes through runBenchmark.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BREAKDOWN_PARTS, RunEvent, RunResult, type Job, type RunEvent as RunEventT, type RunResult as RunResultT, type WorkloadDocument } from '@kvbench/common';
import { kvBytesPerTokenPerRank, resolveModelShape } from '@kvbench/hardware';
import { runBenchmark } from '@kvbench/runner';
import { generateWorkload } from '@kvbench/workload';
import { collector, engineEnv, FIXTURES, installFakeTrtllmServe, makeJob, SIM_MAIN, spawnSimulator, tempDir, testSimulator } from './helpers.js';

let dir: { path: string; cleanup(): Promise<void> };
before(async () => {
  dir = await tempDir();
  await installFakeTrtllmServe(dir.path, join(FIXTURES, 'fake-trtllm-serve.mjs'));
});
after(() => dir.cleanup());

// Small enough for 2 shared cores; the GPU pool (1024 tokens = 16 blocks) is smaller than
// the working set, so blocks are offloaded to host and onboarded on reuse.
const workload: WorkloadDocument = generateWorkload({
  contexts: [512],
  batches_per_context: 4,
  batch_sizes: [2, 4],
  prompt_pool_size: 3,
  reuse_start_batch: 2,
  seed: 7,
});
const requestIds = workload.batches.flatMap((b) => b.requests.map((r) => r.request_id)).sort();
const overrides = { gpu_kv_max_tokens: 1024, host_cache_gb: 1 };

/** Checks every run must pass, whatever the engine path. */
function checkRun(result: RunResultT, events: RunEventT[], job: Job) {
  RunResult.parse(result);
  for (const e of events) RunEvent.parse(e);
  // Every request sampled exactly once, in the result and in the events.
  assert.deepEqual(result.samples.map((s) => s.request_id).sort(), requestIds);
  const sampleEvents = events.filter((e) => e.type === 'sample');
  assert.deepEqual(sampleEvents.map((e) => (e.type === 'sample' ? e.sample.request_id : '')).sort(), requestIds);
  assert.equal(events[0]!.type, 'started');
  assert.equal(events.at(-1)!.type, 'completed');
  assert.equal(events.filter((e) => e.type === 'engine_stats' && e.final).length, 1);
  for (const s of result.samples) {
    assert.ok(s.ok, `${s.request_id}: ${s.error}`);
    assert.ok(s.ttft_s! > 0 && s.ttft_s! < s.latency_s!, `${s.request_id}: 0 < ttft ${s.ttft_s} < latency ${s.latency_s}`);
    assert.equal(s.completion_tokens_client, job.output_tokens, 'ignore_eos: exactly output_tokens generated');
    assert.equal(s.completion_tokens_server, job.output_tokens);
    assert.equal(s.itl_s.length, job.output_tokens - 1);
    // Exact cl100k counts in the workload; the simulator tokenizes with cl100k too.
    assert.equal(s.prompt_tokens_server, s.prompt_tokens_client);
  }
  // Reuse shows up in the engine's own per-request numbers.
  assert.ok(result.samples.some((s) => s.phase === 'reuse' && (s.cached_tokens ?? 0) > 0));
  assert.equal(result.aggregate.n_ok, requestIds.length);
  assert.ok(result.aggregate.ttft_p50_s! > 0);
  const meta = result.run_meta as Record<string, unknown>;
  assert.equal(meta['simulated'], true);
  assert.equal(meta['percentile_method'], 'linear (numpy default): h = (n-1)*p/100, interpolate between order statistics');
  assert.equal(meta['output_tokens'], job.output_tokens);
  assert.equal(meta['max_seq_len'], job.max_seq_len);
  assert.ok((meta['engine'] as { version: string }).version.startsWith('kvbench-sim'));
  checkSimBreakdown(result, String((meta['engine'] as { profile: string }).profile));
  // The pools in blocks as the simulator reports them (the report's hit-rate prediction and link bound use them).
  const pools = meta['kv_pools'] as Record<string, unknown>;
  assert.equal(pools['source'], 'engine GET /version');
  assert.equal(pools['tokens_per_block'], 64);
  assert.ok(typeof pools['gpu_blocks'] === 'number' && typeof pools['host_blocks'] === 'number' && typeof pools['h2d_block_gbps'] === 'number');
  // The offload sweep's link bound counts the offloads a reload forces: GPU→host per block, and the joint cap where the profile has one.
  assert.ok(typeof pools['d2h_block_gbps'] === 'number' && (pools['d2h_block_gbps'] as number) > 0);
}

/**
 * The simulator's breakdown: every part known and summing to TTFT; prompt tokens by tier adding up to
 * the prompt; onboard_s = the onboarded blocks' bytes / the profile's host→GPU bandwidth (time-scaled
 * like every duration, so in modelled seconds whatever the time scale); the bandwidth is the one the
 * engine reports for its block size.
 */
function checkSimBreakdown(result: RunResultT, profileName: string) {
  const tpb = 64;
  const blockBytes = tpb * kvBytesPerTokenPerRank(resolveModelShape('meta-llama/Llama-3.1-8B-Instruct'));
  // The host→GPU figure the engine said (GET /version) it times an onboarded block with; engine-sim's
  // own tests check that figure against the profile's table.
  const gbps = (result.run_meta as Record<string, any>)['kv_pools']['h2d_block_gbps'] as number;
  assert.ok(gbps > 0, `h2d_block_gbps of ${profileName}`);
  let onboarding = 0;
  for (const s of result.samples) {
    const b = s.breakdown!;
    // A part spanning both clocks is null, never negative, when the client's own stamp came late
    // (a starved event loop runs the write callback after the engine already took the request).
    for (const k of BREAKDOWN_PARTS) {
      if (b[k] === null && (k === 'to_engine_s' || k === 'to_client_s')) assert.match(b.null_reasons[k]!, /came out negative/, `${s.request_id} ${k}`);
      else assert.equal(typeof b[k], 'number', `${s.request_id} ${k}: ${b.null_reasons[k]}`);
      if (b[k] !== null) assert.ok((b[k] as number) >= 0, `${s.request_id} ${k} = ${b[k]}`);
    }
    if (BREAKDOWN_PARTS.every((k) => b[k] !== null)) {
      const sum = BREAKDOWN_PARTS.reduce((a, k) => a + (b[k] as number), 0);
      assert.ok(Math.abs(sum - s.ttft_s!) <= 1e-3, `${s.request_id}: Σ parts ${sum} vs TTFT ${s.ttft_s}`);
    }
    const tk = s.tokens!;
    assert.equal(tk.gpu_hit! + tk.host_onboarded! + tk.recomputed!, s.prompt_tokens_client, `${s.request_id} tiers add up to the prompt`);
    assert.equal(tk.cached, s.cached_tokens);
    // Whole blocks are onboarded; the last token of a fully matched prompt is recomputed, not onboarded.
    const blocks = Math.ceil(tk.host_onboarded! / tpb);
    const expected = (blocks * blockBytes) / (gbps * 1e9);
    assert.ok(Math.abs(b.onboard_s! - expected) <= 0.01 * expected + 1e-9, `${s.request_id}: onboard ${b.onboard_s} s vs ${expected} s`);
    assert.ok(b.onboard_s! + b.prefill_s! <= b.first_token_s! + 1e-6);
    if (blocks > 0) onboarding++;
  }
  assert.ok(onboarding > 0, 'some request onboarded KV from host');
}

test('trtllm kind: fake trtllm-serve checks argv and YAML units, runs the simulator; full run measured', async () => {
  const c = collector();
  const record = join(dir.path, 'record.json');
  const job = makeJob({ engine: { kind: 'trtllm', options: {} }, overrides, max_batch_size: 4, max_seq_len: 4096, output_tokens: 4 });
  const env = engineEnv(dir.path, {
    FAKE_RECORD: record,
    FAKE_EXPECT: JSON.stringify({ max_tokens: 1024, tokens_per_block: 64, host_cache_gb: 1, enable_block_reuse: true, max_batch_size: 4, max_seq_len: 4096 }),
    FAKE_SIM_MAIN: SIM_MAIN,
    FAKE_SIM_ARGS: JSON.stringify(['--system', 'pcie', '--seed', '1']),
  });
  const linkCheck = { probe: 'test', h2d_gbps: 1.5 };
  const result = await runBenchmark({
    job, workload, attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, engineEnv: env, progressIntervalMs: 200, linkCheck: async () => linkCheck },
  });
  checkRun(result, c.events, job);
  assert.ok(c.events.some((e) => e.type === 'engine_stats' && !e.final), 'progress engine_stats events');

  const rec = JSON.parse(await readFile(record, 'utf8')) as { argv: string[]; yaml: string };
  assert.equal(rec.argv[0], job.model);
  const meta = result.run_meta as Record<string, any>;
  assert.equal(meta.engine_config_yaml, rec.yaml, 'run_meta keeps the config exactly as sent');
  assert.equal(meta.engine_config.kv_cache_config.host_cache_size, 1024 ** 3);
  assert.deepEqual(meta.kv_config, { gpu_kv_max_tokens: 1024, tokens_per_block: 64, host_cache_gb: 1, enable_reuse: true });
  assert.ok(meta.engine.argv.includes('--max_seq_len'));
  assert.ok(!rec.argv.includes('--max_tokens'), 'max_seq_len is never passed as a generation length');
  assert.ok((await readFile(meta.engine.log_path, 'utf8')).includes('config checked'), 'the engine log is kept with the run');
  assert.deepEqual(meta.link_check, linkCheck);
  // Environment: real facts or recorded absence, never a guess.
  assert.equal(meta.environment.hostname, hostname());
  assert.equal(meta.environment.host_memory_bytes, totalmem());
  const hasSmi = spawnSync('nvidia-smi', ['-L']).error === undefined;
  if (hasSmi) assert.ok(Array.isArray(meta.environment.gpus));
  else assert.deepEqual(meta.environment.gpus, { available: false, reason: 'nvidia-smi not found on PATH' });
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (head.status === 0) assert.equal(meta.git_commit, head.stdout.trim());

  // Cache metrics from the engine's statistics: all present, each with its source.
  const m = result.log_metrics;
  for (const k of ['cache_hit_rate', 'reused_blocks', 'offloaded_blocks', 'observed_offload_bandwidth_gbps', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes'] as const) {
    const v = (m as Record<string, unknown>)[k];
    assert.ok(typeof v === 'number', `${k} is ${v}: ${m.null_reasons[k]}`);
    assert.ok(m.sources[k], `source of ${k}`);
  }
  assert.ok(m.cache_hit_rate! > 0 && m.cache_hit_rate! < 1);
  assert.ok(m.offloaded_blocks! > 0);
  // /perf_metrics joined to every sample, by the id the engine reports.
  for (const s of result.samples) {
    assert.ok(s.server, `${s.request_id} has server metrics`);
    assert.equal((s.server as Record<string, unknown>)['joined_by'], 'id');
    // Not asserted: server_ttft_s <= ttft_s. Under CPU load the simulator can schedule a request in an
    // iteration whose modelled start precedes the request's arrival (negative queue time), see the report.
    assert.equal(typeof s.server.server_ttft_s, 'number');
    assert.equal(typeof s.server.reused_blocks, 'number');
  }
  // Per-request reuse from the engine agrees with the aggregate.
  const perRequestReused = result.samples.reduce((n, s) => n + (s.server?.reused_blocks ?? 0), 0);
  assert.equal(perRequestReused, m.reused_blocks);
});

test('sim kind with the older statistics shape: offloads counted from /kv_cache_events, bytes null with reasons; time scale applied', async () => {
  const c = collector();
  const job = makeJob({ engine: { kind: 'sim', options: { legacy_metrics: true, seed: 3 } }, overrides, max_batch_size: 4, output_tokens: 4 });
  const result = await runBenchmark({ job, workload, attempt: 2, emit: c.emit, log: c.log, agent: { workDir: dir.path, sim: { timeScale: 0.5 }, simulator: testSimulator, collectEnvironment: false } });
  checkRun(result, c.events, job);
  const meta = result.run_meta as Record<string, any>;
  assert.equal(meta.time_scale, 0.5);
  assert.equal(meta.attempt, 2);
  assert.equal(meta.engine.profile, 'h100-pcie-gen5');
  const m = result.log_metrics;
  assert.ok(m.offloaded_blocks! > 0);
  assert.match(m.sources['offloaded_blocks']!, /kv_cache_events/);
  assert.match(m.sources['reused_blocks']!, /kvCacheStats/);
  assert.equal(m.offloaded_bytes, null);
  assert.match(m.null_reasons['offloaded_bytes']!, /no kvCacheIterationStats/);
  assert.equal(m.observed_offload_bandwidth_gbps, null);
  assert.ok(m.null_reasons['observed_offload_bandwidth_gbps']);
});

test('attach by URL to a running engine; kvbench neither launches nor stops it', async () => {
  const cfg = join(dir.path, 'attach-config.yaml');
  await writeFile(cfg, stringify({ kv_cache_config: { max_tokens: 1024, tokens_per_block: 64, host_cache_size: 1024 ** 3, enable_block_reuse: true }, enable_iter_perf_stats: true, return_perf_metrics: true, perf_metrics_max_requests: 1000 }));
  const server = await spawnSimulator(['meta-llama/Llama-3.1-8B-Instruct', '--config', cfg, '--system', 'c2c', '--max_batch_size', '4', '--max_seq_len', '4096']);
  try {
    const c = collector();
    const job = makeJob({ system_label: 'c2c', engine: { kind: 'trtllm', url: server.url, options: {} }, overrides, max_batch_size: 4, output_tokens: 4 });
    const result = await runBenchmark({ job, workload, attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false } });
    checkRun(result, c.events, job);
    const meta = result.run_meta as Record<string, any>;
    assert.equal(meta.engine.launched, false);
    assert.equal(meta.engine_config_yaml, null);
    assert.equal(meta.engine.profile, 'gh200-c2c');
    // Still serving after the run.
    const res = await fetch(new URL('/health', server.url));
    assert.equal(res.status, 200);
  } finally {
    await server.stop();
  }
});
