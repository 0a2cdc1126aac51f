import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '@kvbench/testkit';
import { openDatabase } from '../src/store/database.js';
import { MIGRATIONS, migrate, schemaVersion } from '../src/store/migrations.js';
import { attemptStatus, runState, type AttemptStateRow } from '../src/store/run-status.js';
import { createEventWriter } from '../src/store/writer.js';
import { sampleColumns } from '../src/store/columns.js';
import BetterSqlite3 from 'better-sqlite3';
import { getRunResult, iterateSamples, latestRunsByWorkload, resultsJsonChunks, getResults } from '../src/store/results.js';
import { runFixture } from './fixtures.js';

test('migrations run once, are recorded, and the database is in WAL mode', async () => {
  const dir = await tempDir('kvbench-agg-store-');
  try {
    const path = join(dir.path, 'm.sqlite');
    const db = openDatabase(path);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)!.version);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(migrate(db), []);
    db.close();
    const again = openDatabase(path);
    const rows = again.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    // A later migration applies on top, once.
    const extra = [...MIGRATIONS, { version: 99, name: 'test', sql: 'CREATE TABLE t99 (x)' }];
    assert.deepEqual(migrate(again, extra), [99]);
    assert.deepEqual(migrate(again, extra), []);
    again.close();
  } finally {
    await dir.cleanup();
  }
});

const row = (attempt: number, over: Partial<AttemptStateRow> = {}): AttemptStateRow => ({
  attempt, started_at: null, completed_at: null, failed_at: null, failed_final: null, cancelled_at: null, aggregate_json: null, complete_at: null, ...over,
});

test('attempt and run status rules', () => {
  assert.equal(attemptStatus(row(1), 1), 'queued');
  assert.equal(attemptStatus(row(1, { started_at: 't' }), 1), 'running');
  assert.equal(attemptStatus(row(1, { started_at: 't' }), 2), 'abandoned');
  assert.equal(attemptStatus(row(1, { failed_at: 't' }), 2), 'failed');
  assert.equal(attemptStatus(row(1, { completed_at: 't' }), 1), 'running', 'completed event but samples missing');
  assert.equal(attemptStatus(row(1, { completed_at: 't', aggregate_json: '{}' }), 1), 'completed');

  assert.equal(runState([]).status, 'queued');
  assert.deepEqual(runState([row(1, { started_at: 't' }), row(2, { completed_at: 'at', aggregate_json: '{}', complete_at: 'c' })]), {
    status: 'completed', resultAttempt: 2, completedAt: 'at',
  });
  assert.equal(runState([row(1, { failed_at: 't', failed_final: 0 })]).status, 'running', 'a retried failure keeps the run running');
  assert.equal(runState([row(1, { failed_at: 't', failed_final: 1 })]).status, 'failed');
  // Attempt 2 announced completion but its samples are still arriving: not completed yet, and attempt 1 is not used.
  const s = runState([row(1, { completed_at: 't', aggregate_json: '{}' }), row(2, { completed_at: 't' })]);
  assert.equal(s.status, 'running');
  assert.equal(s.resultAttempt, 2);
  // A cancel is final: samples stored before it never make the run a result.
  assert.equal(attemptStatus(row(1, { started_at: 't', cancelled_at: 'c' }), 1), 'cancelled');
  assert.deepEqual(runState([row(1, { started_at: 't', cancelled_at: 'c' })]), { status: 'cancelled', resultAttempt: null, completedAt: null });
  assert.equal(runState([row(1, { cancelled_at: 'c' }), row(2, { completed_at: 't', aggregate_json: '{}' })]).status, 'cancelled');
});

test('store queries: results document, streamed JSON, iterators, latest run per label', async () => {
  const dir = await tempDir('kvbench-agg-store-');
  const db = openDatabase(join(dir.path, 'q.sqlite'));
  try {
    const w = createEventWriter(db);
    const a = runFixture({ runId: 'q-a', samples: 7, workloadId: 'wl-q' });
    const b = runFixture({ runId: 'q-b', label: 'c2c', samples: 3, workloadId: 'wl-q' });
    const older = runFixture({ runId: 'q-old', samples: 2, workloadId: 'wl-q' });
    w.write(older.all);
    // Reversed order: the writer must not depend on arrival order.
    w.write([...a.all].reverse());
    const notices = w.write(b.all);
    assert.equal(notices.filter((n) => n.kind === 'sample').length, 3);
    assert.equal(notices.filter((n) => n.kind === 'complete').length, 1);
    assert.deepEqual(w.write(b.all), [], 'a repeated batch changes nothing');

    const doc = getResults(db);
    const streamed = JSON.parse([...resultsJsonChunks(db)].join(''));
    assert.deepEqual(streamed, JSON.parse(JSON.stringify(doc)));
    assert.deepEqual(JSON.parse([...resultsJsonChunks(db, { workload_id: 'none' })].join('')), { runs: {} });
    assert.equal(doc.runs.pcie!.length, 2);
    assert.deepEqual([...iterateSamples(db, 'q-a')].map((s) => s.request_id), a.samples.map((e) => (e.type === 'sample' ? e.sample.request_id : '')));
    assert.equal(getRunResult(db, 'q-a')!.samples.length, 7);
    assert.equal(getRunResult(db, 'unknown'), null);
    // q-a and q-old are both pcie on wl-q; q-old's fixture was made later, so it completed later.
    const latest = latestRunsByWorkload(db, 'wl-q').map((r) => [r.system_label, r.run_id]);
    assert.deepEqual(latest, [['c2c', 'q-b'], ['pcie', 'q-old']]);
    // A later completion time wins whatever the run id.
    const newer = runFixture({ runId: 'q-0-newer', samples: 1, workloadId: 'wl-q' });
    w.write(newer.all.map((e) => (e.type === 'completed' ? { ...e, at: '2026-02-01T00:00:00.000Z' } : e)));
    assert.deepEqual(latestRunsByWorkload(db, 'wl-q').map((r) => r.run_id), ['q-b', 'q-0-newer']);
    // /results lists runs of a label by completion time (agent clock), then run id.
    assert.deepEqual(getResults(db).runs.pcie!.map((r) => (r.run_meta as { run_id: string }).run_id), ['q-a', 'q-old', 'q-0-newer']);
  } finally {
    db.close();
    await dir.cleanup();
  }
});

test('migration 2 backfills context_tokens and phase of samples stored under version 1', async () => {
  const dir = await tempDir('kvbench-agg-store-');
  try {
    const db = new BetterSqlite3(join(dir.path, 'v1.sqlite'));
    migrate(db, MIGRATIONS.slice(0, 1));
    const body = JSON.stringify({ request_id: 'x', context_tokens: 65536, phase: 'reuse' });
    db.prepare(`INSERT INTO samples (run_id, attempt, request_id, batch_index, index_in_batch, ok, scheduled_at_s, body)
                VALUES ('r', 1, 'x', 0, 0, 1, 0, ?)`).run(body);
    assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 2)), [2]);
    assert.deepEqual(db.prepare('SELECT context_tokens, phase FROM samples').get(), { context_tokens: 65536, phase: 'reuse' });
    db.close();
  } finally {
    await dir.cleanup();
  }
});

test('sampleColumns matches the stored samples, in workload order', async () => {
  const dir = await tempDir('kvbench-agg-store-');
  const db = openDatabase(join(dir.path, 'c.sqlite'));
  try {
    const run = runFixture({ runId: 'cols', samples: 9 });
    const failed = run.samples[4]!;
    if (failed.type === 'sample') Object.assign(failed.sample, { ok: false, ttft_s: null, latency_s: null, error: 'boom' });
    createEventWriter(db).write([...run.all].reverse());
    const cols = sampleColumns(db, 'cols')!;
    const samples = [...iterateSamples(db, 'cols')];
    assert.equal(cols.length, 9);
    assert.deepEqual(cols.request_id, samples.map((s) => s.request_id));
    assert.deepEqual([...cols.context_tokens], samples.map((s) => s.context_tokens));
    assert.deepEqual(cols.phase, samples.map((s) => s.phase));
    assert.deepEqual([...cols.ok], samples.map((s) => (s.ok ? 1 : 0)));
    assert.deepEqual([...cols.ttft_s], samples.map((s) => s.ttft_s ?? NaN));
    assert.deepEqual([...cols.latency_s], samples.map((s) => s.latency_s ?? NaN));
    assert.equal(sampleColumns(db, 'unknown'), null);
  } finally {
    db.close();
    await dir.cleanup();
  }
});

test('log_metrics: the completed event wins over engine_stats, the final snapshot over others, whatever the order', async () => {
  const dir = await tempDir('kvbench-agg-store-');
  const db = openDatabase(join(dir.path, 'lm.sqlite'));
  try {
    const w = createEventWriter(db);
    for (const [runId, order] of [['lm-fwd', 'forward'], ['lm-rev', 'reverse']] as const) {
      const run = runFixture({ runId, samples: 2 });
      const snapshot = { ...run.engineStats, final: false, at: '2026-01-01T00:00:02.500Z', log_metrics: { ...((run.engineStats as { log_metrics: object }).log_metrics), offloaded_blocks: 1 } };
      const final = { ...run.engineStats, log_metrics: { ...((run.engineStats as { log_metrics: object }).log_metrics), offloaded_blocks: 2 } };
      const events = [run.accepted, run.started, ...run.samples, snapshot, final, run.completed] as typeof run.all;
      w.write(order === 'forward' ? events : [...events].reverse());
      assert.equal(getRunResult(db, runId)!.log_metrics.offloaded_blocks, 4, `${order}: completed's figures`);
    }
    const partial = runFixture({ runId: 'lm-partial', samples: 1 });
    const snap = { ...partial.engineStats, final: false, at: '2026-01-01T00:00:09.000Z', log_metrics: { ...((partial.engineStats as { log_metrics: object }).log_metrics), offloaded_blocks: 7 } };
    w.write([partial.engineStats, snap as typeof partial.engineStats]);
    const row = db.prepare("SELECT log_metrics_json FROM attempts WHERE run_id = 'lm-partial'").get() as { log_metrics_json: string };
    assert.equal(JSON.parse(row.log_metrics_json).offloaded_blocks, 4, 'a later snapshot does not replace the final figures');
  } finally {
    db.close();
    await dir.cleanup();
  }
});
