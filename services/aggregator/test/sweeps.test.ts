/** GET /sweeps/:id and its HTML page: a sweep's runs, published on the bus and stored, reported together. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { RunEvent } from '@kvbench/common';
import { runFixture } from './fixtures.js';
import { getJson, startHarness, waitForRunStatus, type Harness } from './harness.js';

let h: Harness;
let app: FastifyInstance;

/** An offload-sweep run at 4096 tokens: the fixture's samples, the last one the replay; counters as the mode needs. */
function offloadRun(runId: string, label: string, host: number, replayTtft: number, bw: number | null): RunEvent[] {
  const f = runFixture({ runId, label, samples: 3, workloadId: 'wl-sweep-4096' });
  const meta = {
    kv_config: { gpu_kv_max_tokens: 8192, tokens_per_block: 64, host_cache_gb: host, enable_reuse: true },
    kv_pools: { gpu_blocks: 128, host_blocks: host ? 1024 : 0, tokens_per_block: 64, block_bytes: 8388608, source: 'engine GET /version' },
    workload: { kind: 'offload', sweep: { id: 'sw-offload-t', point: '4096' } },
  };
  // Offloads as fast as onboards (no joint cap known): the replay's link bound is its onboard's.
  const lm = { reused_blocks: host ? 64 : 0, onboarded_blocks: host ? 64 : 0, observed_onboard_bandwidth_gbps: bw, observed_offload_bandwidth_gbps: bw };
  return f.all.map((e, i): RunEvent => {
    if (e.type === 'started' || e.type === 'completed') return { ...e, run_meta: { ...e.run_meta, ...meta }, ...(e.type === 'completed' ? { log_metrics: { ...e.log_metrics, ...lm } } : {}) } as RunEvent;
    if (e.type === 'engine_stats') return { ...e, log_metrics: { ...e.log_metrics, ...lm } };
    if (e.type === 'sample') {
      const replay = e.sample.request_id.endsWith('2');
      return { ...e, sample: { ...e.sample, prompt_tokens_client: 4096, ...(replay ? { ttft_s: replayTtft } : {}), scenario: { kind: 'offload', step: replay ? 'replay' : i === 2 ? 'cold' : 'evict' } } as never };
    }
    return e;
  });
}

before(async () => {
  h = await startHarness();
  app = await h.start();
  const runs: [string, RunEvent[]][] = [
    ['sw-pcie-off', offloadRun('sw-pcie-off', 'pcie', 32, 0.03, 25)],
    ['sw-pcie-rec', offloadRun('sw-pcie-rec', 'pcie', 0, 0.1, null)],
    ['sw-c2c-off', offloadRun('sw-c2c-off', 'c2c', 64, 0.012, 300)],
    ['sw-c2c-rec', offloadRun('sw-c2c-rec', 'c2c', 0, 0.1, null)],
  ];
  for (const [id, events] of runs) {
    await h.publish(events);
    await waitForRunStatus(app, id, 'completed');
  }
});
after(async () => {
  await h?.close();
});

test('GET /sweeps/:id reports the offload sweep from the stored runs; the page draws it; unknown and bad ids answered', async () => {
  const r = await getJson(app, '/sweeps/sw-offload-t');
  assert.equal(r.capacity, null);
  const pt = r.offload.points[0];
  assert.equal(pt.prompt_tokens, 4096);
  assert.ok(pt.systems.pcie.offload.valid && pt.systems.pcie.recompute.valid);
  assert.ok(Math.abs(pt.systems.pcie.speedup - 0.1 / 0.03) < 1e-9);
  assert.ok(Math.abs(pt.systems.c2c.link_bound_s - (64 * 8388608) / 300e9) < 1e-12);
  const page = await app.inject('/sweeps/sw-offload-t/report.html');
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/);
  assert.match(page.body, /data-chart="offload-ttft"/);
  assert.match(page.body, /id="simulated-banner"/);
  assert.equal((await app.inject('/sweeps/sw-none')).statusCode, 404);
  const bad = await app.inject('/sweeps/a%20b');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().field, 'id');
});
