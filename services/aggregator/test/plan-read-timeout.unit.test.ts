// A plan read that never answers must not stop ingest: BusPlanSource gives up after its read timeout
// and answers "unknown, retry" (the samples are nak'ed and delivered again). Seen as a hang of the
// faults test's app.close() under load, the ingest chain waiting on an object-store get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { silentLogger } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';
import { openDatabase } from '../src/store/database.js';
import { BusPlanSource } from '../src/ingest/plans.js';

const never = () => new Promise<never>(() => {});

test('a workload-store read that never answers: unknown with retry, after the read timeout', async () => {
  const dir = await tempDir('kvbench-plans-');
  const db = openDatabase(join(dir.path, 'a.sqlite'));
  try {
    const runs = { get: async () => ({ operation: 'PUT', length: 1, json: () => ({ schema: 'x' }) }) } as unknown as KV;
    const stalledInfo = { info: never, getBlob: never } as unknown as ObjectStore;
    const p = new BusPlanSource(db, runs, stalledInfo, silentLogger, 20);
    const plan = await p.planOf('run-1', 'wl-1');
    assert.equal(plan.kind, 'unknown');
    assert.ok(plan.kind === 'unknown' && plan.retry, 'retried later, not refused');
    assert.match(plan.kind === 'unknown' ? plan.reason : '', /workload store info: no answer in 20 ms/);

    const stalledGet = { info: async () => ({ digest: 'd', deleted: false }), getBlob: never } as unknown as ObjectStore;
    const q = await new BusPlanSource(db, runs, stalledGet, silentLogger, 20).planOf('run-1', 'wl-1');
    assert.ok(q.kind === 'unknown' && q.retry && /workload store get: no answer/.test(q.reason), JSON.stringify(q));

    const stalledRuns = { get: never } as unknown as KV;
    const r = await new BusPlanSource(db, stalledRuns, stalledGet, silentLogger, 20).planOf('run-2');
    assert.ok(r.kind === 'unknown' && r.retry && /runs bucket unreadable: runs bucket: no answer/.test(r.reason), JSON.stringify(r));
  } finally {
    db.close();
    await dir.cleanup();
  }
});
