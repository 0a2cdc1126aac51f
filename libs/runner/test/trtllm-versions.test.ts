/**
 * kvbench against TensorRT-LLM as users have it: a `trtllm-serve` double first on PATH, whose version
 * is known only from its own banner (python3 on PATH has no tensorrt_llm), behaving like 1.0, 1.1, 1.2,
 * 1.3.0rc8 (first kvCacheIterationStats; its collector drains /metrics), 1.3 ≥ rc12 (tee buffer) and
 * today's main (no /perf_metrics; metrics by header and trailing SSE event; V2 statistics keys) — each
 * behaviour in fixtures/trtllm-serve-double.mjs cites the upstream file or PR it copies. kvbench detects
 * the build, launches it, runs a workload with no failed request, and its figures either equal what
 * the double counted or are null with the true reason — never a partial sum, never a broken engine.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { EngineError, LogMetrics, RunResult, ValidationError, type WorkloadDocument } from '@kvbench/common';
import { detectTrtllm, runBenchmark, versionFromBanner } from '@kvbench/runner';
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
  eventThreadDied: boolean;
  requests: { max_tokens_served: number; return_metrics_header: boolean }[];
}

/**
 * One `trtllm-serve` on PATH per version — the double with the version baked in, so the version is known
 * only from what trtllm-serve prints — beside a `python3` that has no tensorrt_llm (as where TensorRT-LLM
 * lives in its own virtual environment or container interpreter).
 */
async function installDouble(bin: string, version: string): Promise<void> {
  await writeFile(join(bin, 'trtllm-serve'), `#!/bin/sh\nFAKE_TRTLLM_VERSION='${version}' exec "${process.execPath}" "${join(FIXTURES, 'trtllm-serve-double.mjs')}" "$@"\n`);
  await chmod(join(bin, 'trtllm-serve'), 0o755);
  await writeFile(join(bin, 'python3'), `#!/bin/sh\necho "ModuleNotFoundError: No module named 'tensorrt_llm'" >&2\nexit 1\n`);
  await chmod(join(bin, 'python3'), 0o755);
}

let runsMade = 0;
async function runVersion(version: string, options: Record<string, unknown> = {}, extraEnv: Record<string, string> = {}) {
  // A folder per call (the tests run side by side; two of them run 1.3.0rc14 with no options).
  const bin = join(dir.path, `bin-${++runsMade}-${version}-${Object.keys(options).join('-')}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
  await installDouble(bin, version);
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
    agent: { workDir: dir.path, engineEnv: engineEnv(bin, { FAKE_TRUTH: truthPath, ...extraEnv }), collectEnvironment: false, statsIntervalMs: 100 },
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
  if (extraEnv['FAKE_NO_BANNER']) assert.equal(meta.engine.build.versionAfterStart, version, 'learnt from GET /version after start');
  else {
    assert.equal(meta.engine.build.version, version, 'the detected version is the banner\'s');
    assert.match(meta.engine.build.versionSource, /serve --help \(version banner\)/);
  }
  assert.equal(truth.eventThreadDied, false, 'the engine\'s event thread never died');
  assert.ok(Array.isArray(meta.engine.capabilities) && meta.engine.capabilities.every((c: { how: string }) => c.how), 'capabilities recorded with how each was learned');
  assert.equal(truth.effective.free_gpu_memory_fraction, 0.55);
  assert.ok(!truth.argv.includes('--kv_cache_free_gpu_memory_fraction'));
  assert.ok(truth.offloadBlocks > 0 && truth.onboardBlocks > 0, 'the workload moves blocks both ways');
  return { result, truth, meta, m: result.log_metrics as LogMetrics & Record<string, unknown> };
}

const capability = (meta: Record<string, any>, name: string) => (meta.engine.capabilities as { name: string; available: boolean; how: string }[]).find((c) => c.name === name);
const OFFLOAD_FIELDS = ['offloaded_blocks', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes', 'observed_offload_bandwidth_gbps', 'observed_onboard_bandwidth_gbps'] as const;

function assertReuseEqualsTruth(m: LogMetrics, t: Truth) {
  assert.equal(m.reused_blocks, t.reused, `reused_blocks: ${m.null_reasons['reused_blocks']}`);
  assert.equal(m.cache_hit_rate, t.reused / (t.reused + t.missed));
}

function assertOffloadEqualsTruth(m: LogMetrics, t: Truth) {
  assert.equal(m.offloaded_blocks, t.offloadBlocks, `offloaded_blocks: ${m.null_reasons['offloaded_blocks']}`);
  assert.equal(m.onboarded_blocks, t.onboardBlocks);
  assert.equal(m.offloaded_bytes, t.offloadBytes);
  assert.equal(m.onboarded_bytes, t.onboardBytes);
  assert.equal(typeof m.observed_offload_bandwidth_gbps, 'number');
}

/** Before PR #12413 no build counts offloads; KV events are unsafe with a host cache before PR #11576. */
function assertOffloadNullWithTrueReason(m: LogMetrics, t: Truth) {
  for (const f of OFFLOAD_FIELDS) {
    assert.equal(m[f], null, f);
    assert.match(m.null_reasons[f]!, /no offload counters: kvCacheIterationStats arrives with PR #12413 \(about 1\.3\.0rc8\); KV events unsafe with a host cache before PR #11576 \(issue #4666\)/, `${f}: ${m.null_reasons[f]}`);
  }
  assert.equal(t.effective.event_buffer_max_size, 0, 'the KV event buffer stayed off');
  assert.equal(t.eventsBuilt, 0);
}

// Side by side: each test launches its own double on its own port and waits most of its ~5 s on the
// engine's 2 s long polls of /metrics and /kv_cache_events (ENGINES.md), so one after another the file
// took 45 s of waiting for 4 s of CPU. No test reads another's state.
describe('TensorRT-LLM versions against the double', { concurrency: true }, () => {
  test('banner in either spelling, with a suffix; detection from trtllm-serve itself where python3 is not TensorRT-LLM\'s', async () => {
    assert.equal(versionFromBanner('[TensorRT-LLM] TensorRT-LLM version: 1.0.1'), '1.0.1');
    assert.equal(versionFromBanner('[TensorRT-LLM] TensorRT LLM version: 1.2.0rc3'), '1.2.0rc3');
    assert.equal(versionFromBanner('[TensorRT-LLM] TensorRT LLM version: 1.3.0rc26 (backend: pytorch)'), '1.3.0rc26');
    assert.equal(versionFromBanner('no banner here'), null);
    const bin = join(dir.path, 'bin-detect');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
    await installDouble(bin, '1.2.0');
    const build = await detectTrtllm('trtllm-serve', engineEnv(bin));
    assert.equal(build.version, '1.2.0');
    assert.equal(build.generation, '1.2');
    assert.ok(build.flags?.includes('--config') && build.flags.includes('--max_seq_len'), 'serve\'s flags, from `trtllm-serve serve --help`');
  });

  test('the double refuses what its version would: a 1.0.1 told it is 1.1.0 gets tokens_per_block and does not start', async () => {
    const err = await runVersion('1.0.1', { trtllm_version: '1.1.0' }).then(() => assert.fail('the engine should have refused its config'), (e: unknown) => e as EngineError);
    assert.ok(err instanceof EngineError, String(err));
    assert.match(err.message, /exited before becoming healthy \(exit code 1\)/);
    assert.ok(err.logTail.some((l) => /kv_cache_config\.tokens_per_block/.test(l)) && err.logTail.some((l) => /Extra inputs are not permitted/.test(l)), err.logTail.join('\n'));
  });

  test('the double breaks as 1.0-1.2 do with KV events and a host cache (issue #4666): the event thread dies, later requests get 500', async () => {
    const bin = join(dir.path, 'bin-crash');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
    const cfg = join(bin, 'cfg.yaml');
    await writeFile(cfg, 'kv_cache_config:\n  max_tokens: 64\n  host_cache_size: 1073741824\n  event_buffer_max_size: 1000\nenable_iter_perf_stats: true\n');
    const child = spawn(process.execPath, [join(FIXTURES, 'trtllm-serve-double.mjs'), 'm', '--extra_llm_api_options', cfg, '--max_seq_len', '64', '--port', '0'], {
      env: { ...process.env, FAKE_TRTLLM_VERSION: '1.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /running on (http:\/\/[^\s]+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', () => reject(new Error(out)));
      });
      const statuses: number[] = [];
      // Three distinct 32-token prompts through a 2-block GPU pool: the third offloads a block ("updated" event).
      for (const seed of [1, 2, 3, 4]) {
        const res = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: Array.from({ length: 32 }, (_, i) => seed * 1000 + i), max_tokens: 2, stream: true }) });
        statuses.push(res.status);
        await res.text();
      }
      assert.deepEqual(statuses.slice(0, 2), [200, 200]);
      assert.equal(statuses.at(-1), 500, `statuses ${statuses}`);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('1.0.x with a host cache: kvbench refuses a KV event buffer asked for (it would break the engine), naming the option', async () => {
    const err = await runVersion('1.0.1', { event_buffer_max_size: 1000 }).then(() => assert.fail('refused'), (e: unknown) => e as Error);
    assert.ok(err instanceof ValidationError && err.field === 'engine.options.event_buffer_max_size', String(err));
    assert.match(err.message, /event_buffer_max_size.*PR #11576.*issue #4666/s);
  });

  test('1.0.x: --extra_llm_api_options, keys it lacks left out, no event buffer; reuse from cumulative counters; offload null with the true reason', async () => {
    const { truth, meta, m, result } = await runVersion('1.0.1');
    assert.ok(truth.argv.includes('--extra_llm_api_options') && !truth.argv.includes('--config'));
    assert.deepEqual(meta.engine.left_out.map((l: { key: string }) => l.key).sort(), ['kv_cache_config.event_buffer_max_size', 'kv_cache_config.tokens_per_block', 'perf_metrics_max_requests']);
    assert.equal(truth.effective.tokens_per_block, 32, "the engine's own default block size");
    assertReuseEqualsTruth(m, truth);
    assert.match(m.sources['reused_blocks']!, /kvCacheStats\.reusedBlocks/);
    assertOffloadNullWithTrueReason(m, truth);
    assert.ok(result.samples.every((s) => s.server === null));
    assert.equal(meta.engine.per_request_metrics.source, 'none');
    assert.equal(capability(meta, 'perf_metrics_endpoint')?.available, false);
    assert.match(capability(meta, 'perf_metrics_endpoint')!.how, /probed: GET \/perf_metrics answered 404/);
    assert.equal(capability(meta, 'kv_iteration_stats')?.available, false);
    assert.match(capability(meta, 'kv_iteration_stats')!.how, /^observed: 0 of \d+ iterations/);
  });

  test('1.1.x: every key but the event buffer; reuse from kvCacheStats; /perf_metrics joined by id; offload null with the true reason', async () => {
    const { truth, meta, m, result } = await runVersion('1.1.0');
    assert.ok(truth.argv.includes('--extra_llm_api_options'));
    assert.deepEqual(meta.engine.left_out.map((l: { key: string }) => l.key), ['kv_cache_config.event_buffer_max_size']);
    assert.equal(truth.effective.tokens_per_block, 64);
    assertReuseEqualsTruth(m, truth);
    assertOffloadNullWithTrueReason(m, truth);
    assert.ok(result.samples.every((s) => s.server && (s.server as Record<string, unknown>)['joined_by'] === 'id'));
    assert.equal(result.samples.reduce((n, s) => n + (s.server?.reused_blocks ?? 0), 0), truth.reused);
  });

  test('1.2.x: --config; no stealing collector on 1.2, so return_perf_metrics stays on and per-request metrics are joined; offload null with the true reason', async () => {
    const { truth, meta, m, result } = await runVersion('1.2.0');
    assert.ok(truth.argv.includes('--config'));
    assert.equal(truth.effective.return_perf_metrics, true);
    assert.equal(truth.stolenByCollector, 0);
    assert.equal(meta.statistics.iterations_lost, 0);
    assertReuseEqualsTruth(m, truth);
    assertOffloadNullWithTrueReason(m, truth);
    assert.ok(result.samples.every((s) => s.server !== null), 'per-request metrics joined');
    assert.equal(capability(meta, 'iteration_stats_collector_drains_metrics')?.available, false);
  });

  test('1.3.0rc8: kvCacheIterationStats (PR #12413): offload and onboard exact; return_perf_metrics left out (its collector drains /metrics, PR #11243)', async () => {
    const { truth, meta, m, result } = await runVersion('1.3.0rc8');
    assert.equal(truth.effective.return_perf_metrics, false);
    assert.equal(truth.stolenByCollector, 0);
    assert.match(meta.engine.left_out.find((l: { key: string }) => l.key === 'return_perf_metrics').reason, /collector/);
    assertReuseEqualsTruth(m, truth);
    assertOffloadEqualsTruth(m, truth);
    assert.match(m.sources['offloaded_bytes']!, /^kvCacheIterationStats\.iterOffloadBytes/);
    assert.equal(truth.eventsBuilt, 0);
    assert.ok(result.samples.every((s) => s.server === null));
    assert.equal(capability(meta, 'kv_iteration_stats')?.available, true);
    assert.match(capability(meta, 'kv_iteration_stats')!.how, /^observed: (\d+) of \1 iterations/);
  });

  test('1.3.0rc8 with return_perf_metrics asked for: the collector steals iterations; kvbench sees the gaps and publishes no partial sum', async () => {
    const { truth, meta, m } = await runVersion('1.3.0rc8', { return_perf_metrics: true });
    assert.ok(truth.stolenByCollector > 0, 'the double did steal');
    assert.ok(meta.statistics.iterations_lost > 0, 'kvbench saw the gaps in iter');
    assert.match(meta.statistics.second_reader, /collector/);
    for (const f of ['offloaded_blocks', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes', 'observed_offload_bandwidth_gbps'] as const) {
      assert.equal(m[f], null, f);
      assert.match(m.null_reasons[f]!, /another reader/, f);
    }
    if (m.reused_blocks === null) assert.match(m.null_reasons['reused_blocks']!, /another reader/);
    else assert.equal(m.reused_blocks, truth.reused);
    assert.equal(capability(meta, 'iteration_stats_collector_drains_metrics')?.available, true);
  });

  test('1.3.0rc14 (tee buffer, PR #13405): return_perf_metrics on and nothing lost; every figure equals the engine count, /perf_metrics joined', async () => {
    const { truth, meta, m, result } = await runVersion('1.3.0rc14');
    assert.equal(truth.effective.return_perf_metrics, true);
    assert.equal(truth.stolenByCollector, 0);
    assert.equal(meta.statistics.iterations_lost, 0);
    assertReuseEqualsTruth(m, truth);
    assertOffloadEqualsTruth(m, truth);
    assert.ok(result.samples.every((s) => s.server !== null));
    assert.equal(meta.engine.per_request_metrics.source, 'endpoint');
  });

  test("today's main (1.3.0rc26): no GET /perf_metrics (PR #16668): metrics by X-TRTLLM-return-metrics and the trailing SSE event; V2 keys read once", async () => {
    const { truth, meta, m, result } = await runVersion('1.3.0rc26');
    assert.ok(truth.argv.includes('--config'));
    assert.ok(truth.requests.every((r) => r.return_metrics_header), 'every request asked for its metrics');
    assert.equal(meta.engine.per_request_metrics.source, 'stream');
    assert.equal(capability(meta, 'perf_metrics_endpoint')?.available, false);
    assert.ok(meta.engine.left_out.some((l: { key: string }) => l.key === 'perf_metrics_max_requests'));
    assert.equal(meta.statistics.kv_deltas_key, 'kvCacheIterationStatsByLifecycle');
    assert.equal(meta.statistics.kv_transfer_key, 'kvCacheIterationStatsByPoolGroup');
    assertReuseEqualsTruth(m, truth);
    assertOffloadEqualsTruth(m, truth);
    for (const s of result.samples) {
      assert.ok(s.server, `${s.request_id}: server metrics from the stream`);
      assert.match(String((s.server as Record<string, unknown>)['joined_by']), /^stream/);
      // Server-Timing / X-TRTLLM-Start-End-Time: timings, but no KV block counts.
      assert.ok(s.server.server_ttft_s! > 0 && s.server.server_ttft_s! <= s.server.server_latency_s!);
      assert.ok(s.server.queue_s! >= 0);
      assert.equal(s.server.reused_blocks, null);
    }
  });

  test('a build that prints no banner (python3 without tensorrt_llm): conservative config, then it works from what the server offers — /perf_metrics probed, kvCacheIterationStats observed', async () => {
    const { truth, meta, m, result } = await runVersion('1.3.0rc14', {}, { FAKE_NO_BANNER: '1' });
    assert.equal(meta.engine.build.version, null);
    assert.equal(meta.engine.build.generation, 'unknown');
    assert.ok(truth.argv.includes('--config'), 'the flag serve --help listed');
    assert.equal(truth.effective.event_buffer_max_size, 0, 'nothing that could break an unknown build');
    assert.ok(meta.engine.left_out.some((l: { key: string }) => l.key === 'kv_cache_config.tokens_per_block'));
    assert.match(capability(meta, 'perf_metrics_endpoint')!.how, /^probed: GET \/perf_metrics answered 200/);
    assert.equal(meta.engine.per_request_metrics.source, 'endpoint');
    assert.ok(result.samples.every((s) => s.server !== null), 'per-request metrics joined from the probed endpoint');
    assert.equal(capability(meta, 'kv_iteration_stats')?.available, true);
    assert.match(capability(meta, 'kv_iteration_stats')!.how, /^observed:/);
    assertReuseEqualsTruth(m, truth);
    assertOffloadEqualsTruth(m, truth);
  });
});
