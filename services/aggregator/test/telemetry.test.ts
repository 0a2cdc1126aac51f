/**
 * Telemetry events through the real bus into SQLite (issue 23): one row per period per GPU, a
 * redelivered chunk changes nothing, the summary is in /results, the series exports as JSON and CSV.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { emptyPoint, summarize } from '@kvbench/telemetry';
import type { RunEvent, TelemetryPoint } from '@kvbench/common';
import { getJson, startAggregator, waitForRunStatus, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;
before(async () => ({ h, app } = await startAggregator()));
after(() => h?.close());

function points(n: number, gpus: number): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  for (let i = 1; i <= n; i++)
    for (let g = 0; g < gpus; g++) {
      const p = emptyPoint(g, i * 0.1, 0.1);
      p.pcie_tx_bytes = 1e6 * i;
      p.pcie_rx_bytes = 2e6 * i;
      p.power_w = 300 + g;
      p.energy_j = 30 + g / 10;
      p.mem_used_bytes = 1e9 + i;
      out.push(p);
    }
  return out;
}

test('telemetry chunks and summary: stored once per period per GPU, in /results and the exports', { timeout: 60_000 }, async () => {
  const r = runFixture({ runId: 'tel-run', samples: 6 });
  const series = points(30, 2);
  const env = { schema: 'kvbench.event' as const, version: 1 as const, run_id: r.runId, attempt: 1, system_label: r.label, at: new Date().toISOString() };
  const summary = summarize({ source: 'nvml', detail: 'test', tried: [], simulated: false, gpus: [{ index: 0, name: 'a', uuid: null }, { index: 1, name: 'b', uuid: null }], periodMs: 100, points: series, nullReasons: { c2c_tx_bytes: 'no C2C' }, requests: 6, outputTokens: 96, logMetrics: null });
  const chunk = (i: number, pts: TelemetryPoint[]): RunEvent => ({ ...env, type: 'telemetry', chunk: i, final: false, points: pts, summary: null });
  const telemetry: RunEvent[] = [chunk(0, series.slice(0, 40)), chunk(1, series.slice(40)), { ...env, type: 'telemetry', chunk: 2, final: true, points: [], summary }];
  const completedAt = r.all.indexOf(r.completed);
  await h.publish([...r.all.slice(0, completedAt), ...telemetry, ...r.all.slice(completedAt)]);
  await waitForRunStatus(app, r.runId, 'completed');
  // Published again (an agent retrying): JetStream drops same-msgID repeats, and the store's keys
  // (one event row per chunk, one series row per period per GPU) drop any that get through.
  await h.publish(telemetry.map((e) => ({ ...e, at: new Date(Date.now() + 1000).toISOString() })));
  await new Promise((res) => setTimeout(res, 300));

  const got = await getJson(app, `/runs/${r.runId}/telemetry`);
  assert.equal(got.attempt, 1);
  assert.equal(got.points.length, 60, 'one row per period per GPU');
  assert.deepEqual(got.points, [...series].sort((a, b) => a.t_s - b.t_s || a.gpu - b.gpu));
  assert.deepEqual(got.summary, summary);
  assert.ok(Math.abs(got.summary.energy_per_request_j - (30 * 30 + 30 * 30.1) / 6) < 1e-9);

  const results = await getJson(app, `/results?run_id=${r.runId}`);
  assert.deepEqual(results.runs.pcie[0].telemetry, summary);
  const short = await getJson(app, `/results?run_id=${r.runId}&summary=true`);
  assert.deepEqual(short.runs.pcie[0].telemetry, summary);

  const csv = await app.inject({ method: 'GET', url: `/runs/${r.runId}/telemetry.csv` });
  assert.equal(csv.statusCode, 200);
  const lines = csv.body.trim().split('\n');
  assert.equal(lines[0], 'gpu,t_s,dt_s,pcie_tx_bytes,pcie_rx_bytes,c2c_tx_bytes,c2c_rx_bytes,util_pct,sm_clock_mhz,power_w,energy_j,mem_used_bytes');
  assert.equal(lines.length, 61);
  assert.equal(lines[1], '0,0.1,0.1,1000000,2000000,,,,,300,30,1000000001');

  assert.equal((await app.inject({ method: 'GET', url: '/runs/nope/telemetry' })).statusCode, 404);
});

test('a malformed telemetry event is rejected, never stored', { timeout: 60_000 }, async () => {
  const r = runFixture({ runId: 'tel-bad', samples: 2 });
  await h.publish(r.all);
  await waitForRunStatus(app, r.runId, 'completed');
  const bad = { schema: 'kvbench.event', version: 1, run_id: r.runId, attempt: 1, system_label: 'pcie', at: new Date().toISOString(), type: 'telemetry', chunk: 0, final: false, points: [{ gpu: -1, t_s: 'soon' }], summary: null };
  await h.publish([bad as unknown as RunEvent]);
  await new Promise((res) => setTimeout(res, 500));
  const got = await getJson(app, `/runs/${r.runId}/telemetry`);
  assert.deepEqual(got.points, []);
  assert.equal(got.summary, null);
});
