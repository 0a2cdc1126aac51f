/** GET /sweeps/:id serializes the sweep report through SweepReportSchema: what the route answers is what the schema passes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sweepReport, SweepReportSchema } from '@kvbench/report';
import { sweepRuns } from './fixtures.js';

test('both kinds of sweep report pass SweepReportSchema unchanged (no field stripped, none refused)', () => {
  for (const sweepId of ['sw-cap', 'sw-off']) {
    // The report as computed, as the route's serializer parses it: a non-finite number is refused here as there.
    const report = sweepReport(sweepRuns(), { sweepId });
    const parsed = SweepReportSchema.safeParse(report);
    assert.ok(parsed.success, `${sweepId}: ${parsed.error?.message}`);
    assert.deepEqual(parsed.data, report, sweepId);
  }
});
