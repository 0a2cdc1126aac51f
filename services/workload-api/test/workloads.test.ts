import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkloadDocument, WorkloadSummary } from '@kvbench/common';
import { WORKLOADS_BUCKET } from '@kvbench/bus';
import { generateWorkload, toSeedFormat } from '@kvbench/workload';
import { Objm } from '@nats-io/obj';
import { apiForSuite, natsClient, SMALL_PARAMS } from './helpers.js';

describe('workloads', () => {
  const api = apiForSuite();

  it('generates from params, stores the native document, and answers it by id', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } });
    assert.equal(res.statusCode, 201, res.body);
    const summary = WorkloadSummary.parse(res.json());
    const expected = generateWorkload(SMALL_PARAMS);
    assert.equal(summary.batches, expected.batches.length);
    assert.equal(summary.prompts, expected.prompts.length);
    assert.equal(summary.requests, expected.batches.reduce((n, b) => n + b.requests.length, 0));
    assert.deepEqual(summary.contexts, [64, 128]);
    assert.equal(summary.params?.seed, 7);

    const got = await api.app.inject({ method: 'GET', url: `/workloads/${summary.id}` });
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), res.json());
    assert.equal(got.json().document, undefined);

    const full = await api.app.inject({ method: 'GET', url: `/workloads/${summary.id}?full=true` });
    assert.equal(full.statusCode, 200);
    const doc = WorkloadDocument.parse(full.json().document);
    assert.deepEqual(doc, expected);

    // What an agent on another machine does: fetch the blob by id from the object store.
    const nc = await natsClient(api.nats);
    try {
      const os = await new Objm(nc).open(WORKLOADS_BUCKET);
      const blob = await os.getBlob(summary.id);
      assert.ok(blob);
      assert.equal(blob.length, summary.bytes);
      assert.deepEqual(WorkloadDocument.parse(JSON.parse(new TextDecoder().decode(blob))), expected);
    } finally {
      await nc.close();
    }
  });

  it('gives the same content the same id, generated or uploaded', async () => {
    const a = await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } });
    const b = await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } });
    assert.equal(a.statusCode, 201);
    assert.equal(b.statusCode, 201);
    assert.equal(a.json().id, b.json().id);
    const upload = await api.app.inject({ method: 'POST', url: '/workloads', payload: { document: generateWorkload(SMALL_PARAMS) } });
    assert.equal(upload.statusCode, 201, upload.body);
    assert.equal(upload.json().id, a.json().id);
    const other = await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: { ...SMALL_PARAMS, seed: 8 } } });
    assert.notEqual(other.json().id, a.json().id);
  });

  it('accepts the original list format and stores it as a native document', async () => {
    const seed = toSeedFormat(generateWorkload(SMALL_PARAMS));
    const res = await api.app.inject({ method: 'POST', url: '/workloads', payload: { document: seed } });
    assert.equal(res.statusCode, 201, res.body);
    const summary = res.json();
    assert.equal(summary.params, null);
    assert.equal(summary.batches, seed.length);
    assert.equal(summary.requests, seed.reduce((n, b) => n + b.batch_prompts.length, 0));
    const full = await api.app.inject({ method: 'GET', url: `/workloads/${summary.id}?full=1` });
    const doc = WorkloadDocument.parse(full.json().document);
    // Every request of the seed file is there, in order, with its exact text.
    const texts = new Map(doc.prompts.map((p) => [p.id, p.text]));
    assert.deepEqual(
      doc.batches.map((b) => b.requests.map((r) => texts.get(r.prompt_id))),
      seed.map((b) => b.batch_prompts),
    );
    // The {"batches": [...]} wrapping of the same file is the same workload.
    const wrapped = await api.app.inject({ method: 'POST', url: '/workloads', payload: { document: { batches: seed } } });
    assert.equal(wrapped.json().id, summary.id);
  });

  it('answers 404 for an unknown workload and 400 for a malformed id', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/workloads/wl-0000000000000000' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'NOT_FOUND');
    const bad = await api.app.inject({ method: 'GET', url: '/workloads/..%2Fetc' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'id');
  });
});
