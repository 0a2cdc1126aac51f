/**
 * runTelemetry around a run of a real engine kind, fed the run's own events, reading a DCGM exporter
 * over real HTTP: the source opens before the run starts, the series is published in chunks, the
 * summary (energy per request and per token, link bytes against the engine's) goes out before
 * `completed`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PERCENTILE_METHOD, RunEvent, silentLogger, type LogMetrics, type RunEvent as Ev } from '@kvbench/common';
import { runTelemetry } from '@kvbench/telemetry';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test');
const fixture = (name: string) => readFileSync(join(SRC, 'fixtures', name), 'utf8');

test('a TensorRT-LLM run with a DCGM exporter: summary before completed, energy per request, link vs engine', async () => {
  const bodies = [fixture('dcgm-exporter-scrape-1.txt'), fixture('dcgm-exporter-scrape-2.txt')];
  let n = 0;
  const server = createServer((_q, res) => res.end(bodies[n++ % 2]));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const out: Ev[] = [];
  const tel = runTelemetry(async (e) => void out.push(e), { periodMs: 20, dcgmUrl: url }, silentLogger, 'trtllm');
  try {
    const env = { schema: 'kvbench.event' as const, version: 1 as const, run_id: 'run-t', attempt: 1, system_label: 'c2c', at: new Date().toISOString() };
    const runMeta = { run_id: 'run-t', attempt: 1, system_label: 'c2c', model: 'm', workload_id: 'w', simulated: false, percentile_method: PERCENTILE_METHOD, engine: { url: 'http://127.0.0.1:1' } };
    await tel.emit({ ...env, type: 'started', expected_samples: 2, run_meta: runMeta });
    const sample = (i: number) => ({
      request_id: `r${i}`, batch_index: 0, index_in_batch: i, prompt_id: 'p', context_tokens: 100, phase: 'cold' as const, scheduled_at_s: 0,
      ttft_s: 0.1, latency_s: 0.2, itl_s: [], prompt_tokens_client: 100, prompt_tokens_server: 100, completion_tokens_client: 8,
      completion_tokens_server: 8, cached_tokens: 0, ok: true, error: null, server: null,
    });
    await tel.emit({ ...env, type: 'sample', sample: sample(0) });
    await tel.emit({ ...env, type: 'sample', sample: sample(1) });
    await new Promise((r) => setTimeout(r, 300));
    const lm: LogMetrics = { cache_hit_rate: null, reused_blocks: null, offloaded_blocks: null, observed_offload_bandwidth_gbps: null, offloaded_bytes: 1e9, onboarded_bytes: null, sources: {}, null_reasons: { onboarded_bytes: 'this build reports no onboard bytes' } };
    await tel.emit({ ...env, type: 'completed', sample_count: 2, window_s: 1, run_meta: runMeta, log_metrics: lm });
  } finally {
    await tel.close();
    server.close();
  }
  for (const e of out) RunEvent.parse(e);
  assert.deepEqual(out.map((e) => e.type).filter((t) => t !== 'telemetry'), ['started', 'sample', 'sample', 'completed']);
  const final = out.find((e) => e.type === 'telemetry' && e.final);
  assert.ok(final && final.type === 'telemetry' && final.summary);
  assert.ok(out.indexOf(final) < out.findIndex((e) => e.type === 'completed'));
  const s = final.summary;
  assert.equal(s.source, 'dcgm');
  assert.equal(s.simulated, false);
  assert.ok(s.points > 0);
  assert.equal(s.link_level.link, 'c2c', 'the GH200 carried C2C traffic: that is the offload path');
  assert.ok(s.energy_per_request_j! > 0);
  assert.ok(Math.abs(s.energy_per_output_token_j! - s.energy_per_request_j! / 8) < 1e-9);
  assert.ok(s.peak_mem_used_bytes! >= 61440 * 2 ** 20 + 90112 * 2 ** 20);
  assert.equal(s.versus_engine.engine_offloaded_bytes, 1e9);
  assert.ok(s.versus_engine.offload_ratio! > 1.1 && s.versus_engine.disagreements.length === 1, 'far more link bytes than the engine reported: flagged');
  assert.equal(s.versus_engine.onboard_ratio, null);
  assert.match(s.null_reasons['versus_engine.onboard_ratio']!, /this build reports no onboard bytes/);
  assert.deepEqual(tel.summary(), s);
});
