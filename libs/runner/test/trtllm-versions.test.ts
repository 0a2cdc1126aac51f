/**
 * kvbench against TensorRT-LLM as users have it: a `trtllm-serve` double first on PATH that
 * behaves like 1.0, 1.1, 1.2 (its return_perf_metrics collector drains /metrics), 1.3 (tee
 * buffer) and today's main (no /perf_metrics retention, metrics by header and trailing SSE
 * event, V2 statistics keys) — flags, extra="forbid" config validation, statistics shapes
 * (fixtures/trtllm-serve-double.mjs, each behaviour tied to ENGINES.md). kvbench detects the
 * build, launches it, runs a workload, and its figures either equal what the double counted or
 * are null with the reason — never a partial sum.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError, LogMetrics, RunResult, type WorkloadDocument } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { generateWorkload } from '@kvbench/workload';
import { collector, engineEnv, FIXTURES, makeJob, tempDir } from './helpers.js';

let dir: { path: string; cleanup(): Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(() => dir.cleanup());

// Three 512-token prompts against a 1024-token GPU pool: blocks are offloaded and onboarded on reuse.
const workload: WorkloadDocument = generateWorkload({ contexts: [512], batches_per_context: 4, batch_sizes: [2, 3], prompt_pool_size: 3, reuse_start_batch: 2, seed: 11 });
const requests = workload.batches.reduce((n, b) => n + b.requests.length, 0);

interface Truth {
  version: string;
  argv: string[];
  effective: { tokens_per_block: number; free_gpu_memory_fraction: number; event_buffer_max_size: number; return_perf_metrics: boolean };
  iterations: number;
  reused: number;
  missed: number;
  offloadBlocks: number;
  offloadBytes: number;
  onboardBlocks: number;
  onboardBytes: number;
  stolenByCollector: number;
  eventsBuilt: number;
  requests: { max_tokens_served: number; return_metrics_header: boolean }[];
}

/** One `trtllm-serve` on PATH per version: the double with the version baked in. */
async function runVersion(version: string, options: Record<string, unknown> = {}) {
  const bin = join(dir.path, `bin-${version}-${Object.keys(options).join('-')}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
  const shim = join(bin, 'trtllm-serve');
  await writeFile(shim, `#!/bin/sh\nFAKE_TRTLLM_VERSION='${version}' exec "${process.execPath}" "${join(FIXTURES, 'trtllm-serve-double.mjs')}" "$@"\n`);
  await chmod(shim, 0o755);
  const truthPath = join(bin, 'truth.json');
  const c = collector();
  const job = makeJob({
    engine: { kind: 'trtllm', options: { kv_cache_free_gpu_memory_fraction: 0.55, ...options } },
    overrides: { gpu_kv_max_tokens: 1024, host_cache_gb: 1 },
    max_batch_size: 3,
    max_seq_len: 4096,
    output_tokens: 4,
  });
  const result = await runBenchmark({
    job, workload, attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, engineEnv: engineEnv(bin, { FAKE_TRUTH: truthPath }), collectEnvironment: false, statsIntervalMs: 100 },
  });
  RunResult.parse(result);
  LogMetrics.parse(result.log_metrics);
  const truth = JSON.parse(await readFile(truthPath, 'utf8')) as Truth;
  const meta = result.run_meta as Record<string, any>;
  // Whatever the version: every request answered in full, the detected build recorded, the GPU
  // memory share inside kv_cache_config (a flag would be lost to the YAML's kv_cache_config).
  assert.equal(result.samples.length, requests);
  for (const s of result.samples) {
    assert.ok(s.ok, `${s.request_id}: ${s.error}`);
    assert.equal(s.completion_tokens_client, job.output_tokens);
  }
  assert.ok(truth.requests.every((r) => r.max_tokens_served === job.output_tokens), 'no output clamped');
  assert.equal(meta.engine.build.version, version);
  assert.equal(truth.effective.free_gpu_memory_fraction, 0.55);
  assert.ok(!truth.argv.includes('--kv_cache_free_gpu_memory_fraction'));
  assert.ok(truth.offloadBlocks > 0 && truth.onboardBlocks > 0, 'the workload moves blocks both ways');
  return { result, truth, meta, m: result.log_metrics as LogMetrics & Record<string, unknown> };
}

function assertFiguresEqualTruth(m: LogMetrics, t: Truth, withBytes: boolean) {
  assert.equal(m.reused_blocks, t.reused, `reused_blocks: ${m.null_reasons['reused_blocks']}`);
  assert.equal(m.cache_hit_rate, t.reused / (t.reused + t.missed));
  assert.equal(m.offloaded_blocks, t.offloadBlocks, `offloaded_blocks: ${m.null_reasons['offloaded_blocks']}`);
  assert.equal(m.onboarded_blocks, t.onboardBlocks);
  if (withBytes) {
    assert.equal(m.offloaded_bytes, t.offloadBytes);
    assert.equal(m.onboarded_bytes, t.onboardBytes);
    assert.equal(typeof m.observed_offload_bandwidth_gbps, 'number');
  }
}

test('the double refuses what its version would: a 1.0.1 told it is 1.1.0 gets tokens_per_block and does not start', async () => {
  const err = await runVersion('1.0.1', { trtllm_version: '1.1.0' }).then(() => assert.fail('the engine should have refused its config'), (e: unknown) => e as EngineError);
  assert.ok(err instanceof EngineError, String(err));
  assert.match(err.message, /exited before becoming healthy \(exit code 1\)/);
  assert.ok(err.logTail.some((l) => /kv_cache_config\.tokens_per_block/.test(l)) && err.logTail.some((l) => /Extra inputs are not permitted/.test(l)), err.logTail.join('\n'));
});

test('1.0.x: --extra_llm_api_options, no tokens_per_block / perf_metrics_max_requests (recorded as left out), events on; reuse from cumulative counters, offloads from events', async () => {
  const { truth, meta, m, result } = await runVersion('1.0.1');
  assert.ok(truth.argv.includes('--extra_llm_api_options') && !truth.argv.includes('--config'));
  assert.deepEqual(meta.engine.left_out.map((l: { key: string }) => l.key).sort(), ['kv_cache_config.tokens_per_block', 'perf_metrics_max_requests']);
  assert.equal(truth.effective.tokens_per_block, 32, "the engine's own default block size");
  assert.ok(truth.effective.event_buffer_max_size > 0 && truth.eventsBuilt > 0, 'no KV deltas in this build: events are the offload source');
  assertFiguresEqualTruth(m, truth, false);
  assert.match(m.sources['reused_blocks']!, /kvCacheStats\.reusedBlocks/);
  assert.match(m.sources['offloaded_blocks']!, /kv_cache_events/);
  assert.equal(m.offloaded_bytes, null);
  assert.ok(m.null_reasons['offloaded_bytes']);
  assert.ok(result.samples.every((s) => s.server === null));
  assert.equal(meta.engine.per_request_metrics.source, 'none');
});

test('1.1.x: --extra_llm_api_options, every key, no event buffer; window sums equal the engine count; /perf_metrics joined by id', async () => {
  const { truth, meta, m, result } = await runVersion('1.1.0');
  assert.ok(truth.argv.includes('--extra_llm_api_options'));
  assert.equal(meta.engine.left_out, undefined);
  assert.equal(truth.effective.tokens_per_block, 64);
  assert.equal(truth.effective.event_buffer_max_size, 0);
  assert.equal(truth.eventsBuilt, 0, 'the engine built no KV events nobody reads');
  assertFiguresEqualTruth(m, truth, true);
  assert.match(m.sources['reused_blocks']!, /^kvCacheIterationStats\./);
  assert.equal(meta.statistics.iterations_lost, 0);
  assert.ok(result.samples.every((s) => s.server && (s.server as Record<string, unknown>)['joined_by'] === 'id'));
  assert.equal(result.samples.reduce((n, s) => n + (s.server?.reused_blocks ?? 0), 0), truth.reused);
});

test('1.2.x: --config; return_perf_metrics left out (its collector would drain /metrics), so nothing is stolen and the sums are whole', async () => {
  const { truth, meta, m, result } = await runVersion('1.2.0');
  assert.ok(truth.argv.includes('--config'));
  assert.equal(truth.effective.return_perf_metrics, false);
  assert.equal(truth.stolenByCollector, 0);
  const left = meta.engine.left_out.find((l: { key: string }) => l.key === 'return_perf_metrics');
  assert.match(left.reason, /collector/);
  assertFiguresEqualTruth(m, truth, true);
  assert.ok(result.samples.every((s) => s.server === null));
});

test('1.2.x with return_perf_metrics asked for: the collector steals iterations; kvbench sees the gaps and publishes no partial sum', async () => {
  const { truth, meta, m } = await runVersion('1.2.0', { return_perf_metrics: true });
  assert.ok(truth.stolenByCollector > 0, 'the double did steal');
  assert.ok(meta.statistics.iterations_lost > 0, 'kvbench saw the gaps in iter');
  assert.match(meta.statistics.second_reader, /collector/);
  for (const f of ['offloaded_blocks', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes', 'observed_offload_bandwidth_gbps'] as const) {
    assert.equal(m[f], null, f);
    assert.match(m.null_reasons[f]!, /another reader/, f);
  }
  // Reuse: the cumulative counters cannot be lost by sampling — equal to the engine's count, or null with the reason.
  if (m.reused_blocks === null) assert.match(m.null_reasons['reused_blocks']!, /another reader/);
  else assert.equal(m.reused_blocks, truth.reused);
});

test('1.3.0 (tee buffer): return_perf_metrics on and nothing lost; sums equal the engine count, /perf_metrics joined', async () => {
  const { truth, meta, m, result } = await runVersion('1.3.0');
  assert.equal(truth.effective.return_perf_metrics, true);
  assert.equal(truth.stolenByCollector, 0);
  assert.equal(meta.statistics.iterations_lost, 0);
  assertFiguresEqualTruth(m, truth, true);
  assert.ok(result.samples.every((s) => s.server !== null));
});

test("today's main: metrics by X-TRTLLM-return-metrics and the trailing SSE event; V2 keys read once (not summed across breakdowns)", async () => {
  const { truth, meta, m, result } = await runVersion('1.4.0rc1');
  assert.ok(truth.argv.includes('--config'));
  assert.ok(truth.requests.every((r) => r.return_metrics_header), 'every request asked for its metrics');
  assert.equal(meta.engine.per_request_metrics.source, 'stream');
  assert.ok(meta.engine.left_out.some((l: { key: string }) => l.key === 'perf_metrics_max_requests'));
  assert.equal(meta.statistics.kv_deltas_key, 'kvCacheIterationStatsByLifecycle');
  assert.equal(meta.statistics.kv_transfer_key, 'kvCacheIterationStatsByPoolGroup');
  assertFiguresEqualTruth(m, truth, true);
  for (const s of result.samples) {
    assert.ok(s.server, `${s.request_id}: server metrics from the stream`);
    assert.match(String((s.server as Record<string, unknown>)['joined_by']), /^stream/);
    // Server-Timing / X-TRTLLM-Start-End-Time: timings, but no KV block counts.
    assert.ok(s.server.server_ttft_s! > 0 && s.server.server_ttft_s! <= s.server.server_latency_s!);
    assert.ok(s.server.queue_s! >= 0);
    assert.equal(s.server.reused_blocks, null);
  }
});
