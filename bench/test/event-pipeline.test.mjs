// `make bench`'s event-pipeline benchmark still measures what it says: samples of real runs (each
// opened by its accepted event, of a workload in the store) reach every SQLite database once. Since
// the aggregator admits only samples of a submitted run's workload (issue 25), the bench's old
// samples for a run nobody submitted were all rejected and it waited 600 s for them, then crashed.
// Found on 2026-12-07 by `make bench` (the committed figures were of 2026-12-01, before that change).
// Shown to detect it: with the workload not stored, this test fails in seconds on "the aggregator
// rejected … samples". A figure, not a rate: no speed is asserted here (the rates are make bench's).
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the event-pipeline bench, two seconds of publishing: every sample stored once in each database, none rejected', { timeout: 300_000 }, async () => {
  process.env.BENCH_DURATION_S = '2'; // read when the module loads
  const { run } = await import('../event-pipeline.bench.mjs');
  const rows = await run();
  const row = (metric) => rows.find((r) => r.metric === metric) ?? assert.fail(`no row '${metric}': ${rows.map((r) => r.metric).join(', ')}`);
  const lost = row('samples lost or duplicated');
  assert.equal(lost.value, 0, lost.notes);
  // Four databases (live and three drain rounds), each holding what was published.
  const published = Number(/published (\d+)$/.exec(lost.notes)?.[1]);
  assert.ok(published > 0, lost.notes);
  assert.equal([...lost.notes.matchAll(new RegExp(`: ${published} stored, ${published} distinct`, 'g'))].length, 4, lost.notes);
  assert.match(row('publish → aggregator commit, live, sustained').notes, /samples of \d+ runs of 10000 requests/);
});
