import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { getJson, startHarness, waitForRunStatus, type Harness } from './harness.js';
import { scaledRun } from './compare-fixtures.js';

let h: Harness;
let app: FastifyInstance;

before(async () => {
  h = await startHarness();
  app = await h.start();
  // Workload wl-a: an old PCIe run, then the latest PCIe run and a C2C run twice as fast on every request.
  const old = scaledRun({ runId: 'pcie-old', label: 'pcie', samples: 30, workloadId: 'wl-a' }, 3);
  const pcie = scaledRun({ runId: 'pcie-new', label: 'pcie', samples: 30, workloadId: 'wl-a' }, 1);
  const c2c = scaledRun({ runId: 'c2c-new', label: 'c2c', samples: 30, workloadId: 'wl-a' }, 0.5, { observed_offload_bandwidth_gbps: 100 });
  const other = scaledRun({ runId: 'pcie-wl-b', label: 'pcie', samples: 8, workloadId: 'wl-b' }, 1);
  for (const r of [old, pcie, c2c]) {
    await h.publish(r.all);
    await waitForRunStatus(app, r.runId, 'completed');
  }
  // Completes last: the default workload, when none is named, is that of pcie's latest run.
  await h.publish(other.all);
  await waitForRunStatus(app, 'pcie-wl-b', 'completed');
});
after(async () => {
  await h?.close();
});

test('GET /compare pairs the latest run of each system on a workload; pcie is the baseline', async () => {
  const c = await getJson(app, '/compare?workload_id=wl-a');
  assert.equal(c.baseline, 'pcie');
  assert.deepEqual(c.systems.map((s: any) => s.run_id).sort(), ['c2c-new', 'pcie-new']);
  const all = c.rows.at(-1);
  assert.equal(all.phase, 'all');
  const vs = all.vs_baseline[0];
  assert.equal(vs.system, 'c2c');
  assert.equal(vs.paired, 30);
  const p50 = vs.metrics.find((m: any) => m.metric === 'ttft_p50');
  // Every request exactly twice as fast: the ratio and both interval ends are 0.5.
  for (const v of [p50.ratio, p50.ci_low, p50.ci_high]) assert.ok(Math.abs(v - 0.5) < 1e-9, String(v));
  assert.equal(p50.verdict, 'C2C TTFT p50 2.0× lower than PCIe across all requests, 95% CI 2.0–2.0×');
  const bw = vs.metrics.find((m: any) => m.metric === 'offload_bandwidth');
  assert.equal(bw.ratio, 8); // 100 / 12.5
  assert.deepEqual(c.rows.map((r: any) => `${r.context_tokens}/${r.phase}`), ['1024/cold', '1024/reuse', 'null/all']);
});

test('GET /compare with named runs and a baseline; without a workload it takes the baseline\'s latest', async () => {
  const c = await getJson(app, '/compare?runs=pcie-old,c2c-new&baseline=c2c');
  assert.equal(c.baseline, 'c2c');
  const m = c.rows.at(-1).vs_baseline[0].metrics.find((x: any) => x.metric === 'latency_p50');
  assert.ok(Math.abs(m.ratio - 6) < 1e-9, String(m.ratio));
  assert.match(m.verdict, /^PCIe latency p50 6\.0× higher than C2C/);

  const byDefault = await getJson(app, '/compare');
  assert.deepEqual(byDefault.systems.map((s: any) => s.run_id), ['pcie-wl-b']);
  const viaC2c = await getJson(app, '/compare?baseline=c2c');
  assert.deepEqual(viaC2c.systems.map((s: any) => s.run_id).sort(), ['c2c-new', 'pcie-new']);
});

test('GET /compare?min_effect= sets the practical threshold, shown in method; bad values are 400 naming the field; the OpenAPI document is the report\'s schema', async () => {
  const dflt = await getJson(app, '/compare?workload_id=wl-a');
  assert.equal(dflt.method.min_effect, 0.05);
  const p50 = (c: any) => c.rows.at(-1).vs_baseline[0].metrics.find((m: any) => m.metric === 'ttft_p50');
  assert.equal(p50(dflt).meaningful, true);
  // The threshold is the query's: 2× is an effect of exactly 100%, the largest threshold allowed.
  const strict = await getJson(app, '/compare?workload_id=wl-a&min_effect=1');
  assert.equal(strict.method.min_effect, 1);
  assert.equal(p50(strict).meaningful, true, '2× is exactly a 100% effect');
  assert.ok(strict.rows.at(-1).vs_baseline[0].evidence.text.length > 0);
  const bad = await app.inject('/compare?workload_id=wl-a&min_effect=-1');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().field, 'min_effect');
  const bucket = await app.inject('/compare?workload_id=wl-a&bucket=zz');
  assert.equal(bucket.statusCode, 400);
  assert.equal(bucket.json().field, 'bucket');
  const pow2 = await getJson(app, '/compare?workload_id=wl-a&bucket=pow2');
  assert.deepEqual(pow2.rows[0].bucket, { low: 1024, high: 2048 });
  const doc = await getJson(app, '/docs/json');
  const op = doc.paths['/compare'].get;
  assert.ok(op.parameters.some((x: any) => x.name === 'min_effect'));
  const body = JSON.stringify(op.responses['200']);
  for (const field of ['evidence', 'link_exercised', 'meaningful', 'min_effect', 'host_bound']) assert.ok(body.includes(field), field);
});

test('GET /compare errors: unknown run 404, malformed ids and unknown baselines 400 naming the field', async () => {
  const unknown = await app.inject('/compare?runs=pcie-new,nope');
  assert.equal(unknown.statusCode, 404);
  assert.match(unknown.json().message, /nope/);
  const bad = await app.inject('/compare?runs=pcie-new,../etc');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().field, 'runs.1');
  const base = await app.inject('/compare?workload_id=wl-a&baseline=zzz');
  assert.equal(base.statusCode, 400);
  assert.equal(base.json().field, 'baseline');
  const few = await app.inject('/compare?workload_id=wl-a&resamples=10');
  assert.equal(few.statusCode, 400);
  assert.equal(few.json().field, 'resamples');
  assert.equal((await app.inject('/compare?workload_id=nothing')).statusCode, 404);
});

test('GET /compare carries each request\'s TTFT breakdown through the bus and SQLite, and goodput at ?slo=', async () => {
  const c = await getJson(app, '/compare?workload_id=wl-a&slo=ttft_ms%3D100000,latency_ms%3D1000000');
  const all = c.breakdown.at(-1);
  assert.equal(all.phase, 'all');
  const pcie = all.systems.pcie;
  assert.equal(pcie.n_complete, 30);
  assert.deepEqual(pcie.median_split.parts.map((p: any) => p.part), ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'first_token_s', 'to_client_s']);
  const sum = pcie.median_split.parts.reduce((a: number, p: any) => a + p.seconds, 0);
  assert.ok(Math.abs(sum - pcie.median_split.ttft_mean_s) < 1e-9);
  // c2c is exactly half on every request, so is its split.
  assert.ok(Math.abs(all.systems.c2c.median_split.ttft_mean_s * 2 - pcie.median_split.ttft_mean_s) < 1e-9);
  // Every request meets so loose an SLO.
  assert.equal(c.goodput.systems.pcie.met, 30);
  assert.equal(c.goodput.vs_baseline[0].system, 'c2c');
  assert.ok(c.hit_rate.length === 2 && c.settings.length > 0);
  const csv = await app.inject('/runs/pcie-new/samples.csv');
  assert.equal(csv.statusCode, 200);
  assert.match(csv.body.split('\n')[0]!, /client_wait_s,to_engine_s,engine_queue_s,first_token_s,onboard_s,prefill_s,to_client_s,tokens_gpu_hit/);
  const bad = await app.inject('/compare?workload_id=wl-a&slo=ttft=fast');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().field, 'slo');
  const html = await app.inject('/compare.html?workload_id=wl-a&slo=ttft_ms%3D100000');
  assert.match(html.body, /data-chart="goodput"/);
  assert.match(html.body, /data-chart="ttft-breakdown-1024"/);
});

test('GET /compare.html is the self-contained report, with a restrictive CSP', async () => {
  const r = await app.inject('/compare.html?workload_id=wl-a');
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /^text\/html/);
  assert.match(r.headers['content-security-policy'] as string, /default-src 'none'/);
  assert.match(r.body, /^<!doctype html>/);
  assert.match(r.body, /id="simulated-banner"/);
  assert.match(r.body, /C2C TTFT p50 2\.0× lower than PCIe/);
  assert.ok(!r.body.includes('<script'));
});

test('GET /results filters by workload, system and run (served by the aggregator)', async () => {
  const wl = await getJson(app, '/results?workload_id=wl-a&summary=true');
  assert.deepEqual(Object.keys(wl.runs).sort(), ['c2c', 'pcie']);
  assert.equal(wl.runs.pcie.length, 2);
  const sys = await getJson(app, '/results?system_label=c2c&summary=true');
  assert.deepEqual(Object.keys(sys.runs), ['c2c']);
  const one = await getJson(app, '/results?run_id=pcie-old');
  assert.equal(one.runs.pcie.length, 1);
  assert.equal(one.runs.pcie[0].samples.length, 30);
});
