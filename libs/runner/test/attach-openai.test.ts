/**
 * The `openai` kind attached by URL (a vLLM stand-in serving Prometheus text),
 * and a run aborted through its signal (agent shutdown).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError, RunEvent } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { collector, FIXTURES, makeJob, tempDir, tinyWorkload } from './helpers.js';

async function startFake(mode: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(FIXTURES, 'fake-engine.mjs'), 'm', '--port', '0'], { env: { ...process.env, FAKE_MODE: mode }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`fake engine exited ${code}`)));
  });
  return { url, child };
}

let dir: { path: string; cleanup(): Promise<void> };
const children: ChildProcess[] = [];
before(async () => {
  dir = await tempDir();
});
after(async () => {
  for (const c of children) c.kill('SIGTERM');
  await dir.cleanup();
});

test('openai kind: attached by URL, cache hit rate from Prometheus counter deltas over the window', async () => {
  const { url, child } = await startFake('vllm');
  children.push(child);
  const c = collector();
  const job = makeJob({ engine: { kind: 'openai', url, options: {} } });
  const result = await runBenchmark({ job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false } });
  for (const e of c.events) RunEvent.parse(e);
  assert.equal(result.samples.length, 5);
  assert.ok(result.samples.every((s) => s.ok && s.ttft_s! > 0 && s.ttft_s! < s.latency_s!));
  // 5 requests × (60 hit / 100 queried); the 100/1000 before the window is not counted.
  assert.equal(result.log_metrics.cache_hit_rate, 0.6);
  assert.equal((result.log_metrics as Record<string, unknown>)['reused_tokens'], 300);
  assert.equal(result.log_metrics.reused_blocks, null);
  assert.ok(result.log_metrics.null_reasons['reused_blocks']);
  const meta = result.run_meta as Record<string, any>;
  assert.equal(meta.simulated, false);
  assert.equal(meta.time_scale, 1);
  assert.equal(meta.engine.launched, false);
  assert.equal(child.exitCode, null, 'an attached engine is left running');
});

const near = (a: unknown, b: number, what: string) => assert.ok(typeof a === 'number' && Math.abs(a - b) < 1e-6 * Math.max(1, b), `${what}: ${String(a)} ≠ ${b}`);

test('vLLM with the offloading connector: its stores land after the responses; the window waits for the counters to settle, so the bytes are exact', async () => {
  const { url, child } = await startFake('vllm-offload');
  children.push(child);
  const c = collector();
  const job = makeJob({ engine: { kind: 'openai', url, options: {} } });
  const result = await runBenchmark({ job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false } });
  const m = result.log_metrics;
  assert.equal(m.offloaded_bytes, 5 * 1048576); // 5 requests × 1 MiB, every store counted although each landed after its response
  assert.equal(m.onboarded_bytes, 5 * 524288);
  near(m.observed_offload_bandwidth_gbps, 1048576 / 0.001 / 1e9, 'offload GB/s');
  near(m.observed_onboard_bandwidth_gbps, 524288 / 0.00025 / 1e9, 'onboard GB/s');
  assert.match(m.sources['offloaded_bytes']!, /vllm:kv_offload_store_bytes_total/);
  const meta = result.run_meta as Record<string, any>;
  assert.equal(meta.engine.detected.flavor, 'vllm');
  assert.equal(meta.statistics.counters_settled, true);
  assert.ok(meta.engine.capabilities.some((x: { name: string; available: boolean }) => x.name === 'offload_transfer_time' && x.available));
});

test('vLLM counters that never stop moving: the wait is bounded and run_meta says they had not settled', async () => {
  const { url, child } = await startFake('vllm-offload-restless');
  children.push(child);
  const c = collector();
  const job = makeJob({ engine: { kind: 'openai', url, options: {} } });
  const result = await runBenchmark({ job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false, counterSettleMaxMs: 1_500 } });
  const meta = result.run_meta as Record<string, any>;
  assert.equal(meta.statistics.counters_settled, false);
  assert.equal(meta.statistics.settle_max_ms, 1_500);
});

test('SGLang with HiCache: backup and load-back counters (not evicted_tokens_total), the engine\'s own bytes, no bandwidth from bookkeeping durations', async () => {
  const { url, child } = await startFake('sglang-hicache');
  children.push(child);
  const c = collector();
  const job = makeJob({ engine: { kind: 'openai', url, options: {} } });
  const result = await runBenchmark({ job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false } });
  const m = result.log_metrics;
  assert.equal(m.offloaded_blocks, (5 * 96) / 64); // hicache_backup_tokens_total{pool="kv"}, the run's tokens_per_block (config_pcie: 64)
  assert.equal(m.onboarded_blocks, (5 * 64) / 64);
  assert.equal(m.offloaded_bytes, 5 * 96 * 131072); // hicache_backup_bytes_total
  assert.equal(m.onboarded_bytes, 5 * 64 * 131072);
  assert.equal(m.observed_offload_bandwidth_gbps, null);
  assert.match(m.null_reasons['observed_offload_bandwidth_gbps']!, /no transfer time/);
  assert.equal(m.cache_hit_rate, 0.4); // 5 × 40 cached of 5 × 100 prompt tokens
});

test('SGLang with HiCache, older build (tokens only): bytes from the model\'s KV size the caller knows', async () => {
  const { url, child } = await startFake('sglang-hicache-old');
  children.push(child);
  const c = collector();
  const job = makeJob({ engine: { kind: 'openai', url, options: {} } });
  const kvBytes = 131072; // what the CLI and the host agent hand in for Llama-3.1-8B (engine-sim's shapes)
  const result = await runBenchmark({
    job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, collectEnvironment: false, modelKvBytesPerToken: (mm) => (mm === job.model ? kvBytes : null) },
  });
  const m = result.log_metrics;
  assert.equal(m.offloaded_blocks, (5 * 96) / 64);
  assert.equal(m.offloaded_bytes, 5 * 96 * kvBytes);
  assert.match(m.sources['offloaded_bytes']!, /sglang:hicache_backup_tokens_total × 131072 KV bytes per token \(the shape of meta-llama/);
  assert.equal(m.observed_onboard_bandwidth_gbps, null);
});

test('openai kind without a URL is refused with the field named', async () => {
  const c = collector();
  const job = makeJob({ engine: { kind: 'openai', options: {} } });
  await assert.rejects(
    runBenchmark({ job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log, agent: { workDir: dir.path, collectEnvironment: false } }),
    /attached by URL/,
  );
  assert.equal(c.events.filter((e) => e.type === 'failed').length, 1);
});

test('abort (agent shutdown): failed event with final=false, heartbeats were sent', async () => {
  const { url, child } = await startFake('slow'); // 200 ms per token
  children.push(child);
  const c = collector();
  const ac = new AbortController();
  let beats = 0;
  const job = makeJob({ engine: { kind: 'trtllm', url, options: {} }, output_tokens: 50 });
  const run = runBenchmark({
    job, workload: tinyWorkload(), attempt: 3, emit: c.emit, log: c.log, signal: ac.signal,
    heartbeat: () => void beats++,
    agent: { workDir: dir.path, collectEnvironment: false, heartbeatIntervalMs: 100 },
  });
  setTimeout(() => ac.abort(new Error('agent shutting down')), 1_000);
  const err = await run.then(() => assert.fail('should abort'), (e: unknown) => e);
  assert.ok(err instanceof EngineError);
  assert.match(err.message, /aborted|shutting down/);
  const failed = c.events.filter((e) => e.type === 'failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.type === 'failed' && failed[0]!.final, false, 'the job will be delivered again');
  assert.equal(failed[0]!.attempt, 3);
  assert.ok(beats >= 3, `heartbeats: ${beats}`);
});
