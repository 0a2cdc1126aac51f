import { openApiGaps } from '@kvbench/common';
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ResultsDocument } from '@kvbench/common';
import type { FastifyInstance } from 'fastify';
import { getJson, startAggregator, waitForRunStatus, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;

before(async () => ({ h, app } = await startAggregator()));
after(() => h?.close());

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

test('a published run appears in /results with every sample once and a hand-checkable aggregate', async () => {
  const run = runFixture({ runId: 'run-a', samples: 8 });
  const other = runFixture({ runId: 'run-b', label: 'c2c', samples: 4, workloadId: 'wl-other' });
  await h.publish(run.all);
  await h.publish(other.all);
  await waitForRunStatus(app, 'run-a', 'completed');
  await waitForRunStatus(app, 'run-b', 'completed');

  const doc = ResultsDocument.parse(await getJson(app, '/results'));
  assert.deepEqual(Object.keys(doc.runs).sort(), ['c2c', 'pcie']);
  const [r] = doc.runs.pcie!;
  assert.ok(r);
  const ids = r.samples.map((s) => s.request_id);
  assert.equal(ids.length, 8);
  assert.equal(new Set(ids).size, 8);
  assert.deepEqual(ids, run.samples.map((e) => (e.type === 'sample' ? e.sample.request_id : '')));
  // TTFT 0.1..0.8: p50 = 0.45 (h = 3.5), p95 = 0.765 (h = 6.65); latency = TTFT + 1.
  // Window: first scheduled 0 s → last end 3.5 + 1.8 = 5.3 s.
  const a = r.aggregate;
  assert.ok(close(a.ttft_p50_s!, 0.45), `ttft_p50 ${a.ttft_p50_s}`);
  assert.ok(close(a.ttft_p95_s!, 0.765), `ttft_p95 ${a.ttft_p95_s}`);
  assert.ok(close(a.latency_p50_s!, 1.45), `latency_p50 ${a.latency_p50_s}`);
  assert.ok(close(a.throughput_req_per_s!, 8 / 5.3), `throughput ${a.throughput_req_per_s}`);
  assert.equal(r.log_metrics.offloaded_blocks, 4);
  assert.equal((r.run_meta as { run_id: string }).run_id, 'run-a');

  // Filters and summary.
  const onlyOther = await getJson(app, '/results?workload_id=wl-other');
  assert.deepEqual(Object.keys(onlyOther.runs), ['c2c']);
  const byRun = await getJson(app, '/results?run_id=run-a');
  assert.deepEqual(Object.keys(byRun.runs), ['pcie']);
  const byLabel = await getJson(app, '/results?system_label=c2c&summary=true');
  assert.deepEqual(Object.keys(byLabel.runs), ['c2c']);
  assert.equal(byLabel.runs.c2c[0].samples, undefined);
  assert.equal(byLabel.runs.c2c[0].aggregate.n_requests, 4);
  const none = await getJson(app, '/results?workload_id=nope');
  assert.deepEqual(none, { runs: {} });

  // /runs and /runs/:id
  const list = await getJson(app, '/runs?status=completed&system_label=pcie');
  assert.deepEqual(list.runs.map((x: { run_id: string }) => x.run_id), ['run-a']);
  const detail = await getJson(app, '/runs/run-a');
  assert.equal(detail.status, 'completed');
  assert.equal(detail.expected_samples, 8);
  assert.equal(detail.received_samples, 8);
  assert.equal(detail.attempts.length, 1);
  assert.equal(detail.attempts[0].in_results, true);
  assert.equal(detail.job.workload_id, 'wl-test');
  assert.ok(close(detail.aggregate.ttft_p50_s, 0.45));
});

test('bad input gets 400 naming the field, unknown ids 404', async () => {
  const cases: [string, string][] = [
    ['/runs?limit=0', 'limit'],
    ['/runs?status=bogus', 'status'],
    ['/runs?system_label=UPPER', 'system_label'],
    ['/results?summary=maybe', 'summary'],
    ['/results?run_id=bad%20id', 'run_id'],
    ['/runs/bad%20id', 'id'],
  ];
  for (const [url, field] of cases) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 400, url);
    assert.equal(r.json().field, field, url);
  }
  for (const url of ['/runs/unknown-run', '/runs/unknown-run/events', '/nope']) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 404, url);
  }
});

test('the OpenAPI document is generated from the zod schemas', async () => {
  const doc = await getJson(app, '/openapi.json');
  assert.match(doc.openapi, /^3\./);
  for (const p of ['/health', '/runs', '/runs/{id}', '/runs/{id}/events', '/results']) assert.ok(doc.paths[p]?.get, `path ${p}`);
  const params = doc.paths['/results'].get.parameters.map((p: { name: string }) => p.name).sort();
  assert.deepEqual(params, ['pretty', 'run_id', 'summary', 'system_label', 'workload_id']);
  const runRef = doc.paths['/runs/{id}'].get.responses['200'].content['application/json'].schema.$ref;
  assert.equal(runRef, '#/components/schemas/RunDetail');
  const runSchema = doc.components.schemas.RunDetail;
  assert.ok(runSchema.properties.attempts, 'RunDetail has attempts');
  assert.equal(runSchema.$id, undefined, 'no $id: it would re-base the $refs inside it');
  const docs = await app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(docs.statusCode, 200);
  assert.match(docs.body, /swagger/i);
});

test('every field, parameter and response is described, every JSON answer has an example', async () => {
  const doc = await getJson(app, '/openapi.json');
  // Every route, the comparison, sweep and telemetry schemas of @kvbench/report and @kvbench/common included.
  assert.deepEqual(openApiGaps(doc), []);
  assert.deepEqual(doc.paths['/runs'].get.responses['200'].content['application/json'].example.runs[0].run_id, 'run-mfz1k2a0-3f9c2b7d1e');
});

test('?pretty=1 indents the same JSON, for a person reading it', async () => {
  const plain = await app.inject({ url: '/runs?limit=3' });
  const pretty = await app.inject({ url: '/runs?limit=3&pretty=1' });
  assert.equal(pretty.statusCode, 200, pretty.body);
  assert.deepEqual(pretty.json(), plain.json());
  assert.match(pretty.body, /^\{\n  "runs"/);
});

test('health reports ingest running and the schema version', async () => {
  const health = await getJson(app, '/health');
  assert.equal(health.status, 'ok');
  assert.equal(health.ingest.running, true);
  assert.ok(health.schema_version >= 1);
});
