import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { TelemetryPoint, TelemetrySummary } from '@kvbench/common';
import { ComparisonSchema, SweepReportSchema } from '@kvbench/report';
import { Health, ResultsResponse, RunDetail, RunList, RunSummary, RunTelemetryResponse } from '../src/api-schemas.js';

// Swagger UI shows each response's example and a reader copies it: an example must be a document
// the schema accepts as it is. Parsing strips keys the schema does not know, so an example with a
// misspelt or stale field parses to something else and fails the deepEqual.
const documented: [string, z.ZodType][] = [
  ['RunSummary', RunSummary],
  ['RunDetail', RunDetail],
  ['RunList', RunList],
  ['Results', ResultsResponse],
  ['Health', Health],
  ['RunTelemetry', RunTelemetryResponse],
  ['TelemetryPoint', TelemetryPoint],
  ['TelemetrySummary', TelemetrySummary],
  ['Comparison', ComparisonSchema],
  ['SweepReport', SweepReportSchema],
];

test('every response example is a document its own schema accepts unchanged', () => {
  for (const [name, schema] of documented) {
    const examples = schema.meta()?.['examples'] as unknown[] | undefined;
    assert.ok(examples && examples.length > 0, `${name} has an example`);
    for (const example of examples) {
      const parsed = schema.safeParse(example);
      assert.ok(parsed.success, `${name}: ${parsed.error?.message}`);
      assert.deepEqual(parsed.data, example, `${name}: the example has fields its schema does not know`);
    }
  }
});
