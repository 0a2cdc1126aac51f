// `make bench`'s event-pipeline benchmark still measures what it says: samples of real runs (each
// opened by its accepted event, of a workload in the store) reach every SQLite database once. Since
// the aggregator admits only samples of a submitted run's workload (issue 25), the bench's old
// samples for a run nobody submitted were all rejected and it waited 600 s for them, then crashed.
// Found on 2026-12-07 by `make bench` (the committed figures were of 2026-12-01, before that change).
// Shown to detect it: with the workload not stored, this test fails in seconds on "the aggregator
// rejected … samples". A figure, not a rate: no speed is asserted here (the rates are make bench's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measure, rows } from '../event-pipeline.bench.mjs';

test('the event-pipeline bench, two seconds of publishing: every sample stored once in each database, none rejected', { timeout: 300_000 }, async () => {
  const m = await measure(2);
  assert.ok(m.samples > 0 && m.runs >= 1, `published ${m.samples} samples of ${m.runs} runs`);
  // Four databases (live and three drain rounds), each holding exactly the samples published.
  assert.equal(m.stored.length, 4);
  for (const s of m.stored) assert.deepEqual({ stored: s.n, distinct: s.d }, { stored: m.samples, distinct: m.samples }, s.name);
  const lost = (await rows(m)).find((r) => r.metric === 'samples lost or duplicated');
  assert.equal(lost?.value, 0, lost?.notes);
});
