import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { percentile } from '@kvbench/common';
import { compareRuns } from '@kvbench/report';
import { run, sample } from './fixtures.js';

// Expected values were computed by numpy (see fixtures/numpy-percentiles.py), not by this code base.
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/numpy-percentiles.json', import.meta.url), 'utf8')) as {
  percentiles: number[];
  cases: Record<string, { values: number[]; expected: number[] }>;
};

const close = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs numpy ${b}`);

test('percentile() equals numpy.percentile (linear) on every fixture', () => {
  for (const [name, c] of Object.entries(fixture.cases)) {
    fixture.percentiles.forEach((p, i) => close(percentile(c.values, p), c.expected[i]!, `${name} p${p}`));
  }
});

test('compareRuns row percentiles equal numpy on the same values', () => {
  const { values, expected } = fixture.cases.lognormal_200!;
  const samples = values.map((v, i) => sample({ request_id: `r${i}`, ttft_s: v, latency_s: v * 2, context_tokens: 4096, phase: 'reuse' }));
  const c = compareRuns([run('pcie', 'a', samples)], { resamples: 1000 });
  const row = c.rows.find((r) => r.context_tokens === 4096 && r.phase === 'reuse')!;
  const at = (p: number) => expected[fixture.percentiles.indexOf(p)]!;
  close(row.systems.pcie!.ttft_s.p50, at(50), 'p50');
  close(row.systems.pcie!.ttft_s.p95, at(95), 'p95');
  close(row.systems.pcie!.ttft_s.p99, at(99), 'p99');
  close(row.systems.pcie!.latency_s.p50, at(50) * 2, 'latency p50');
});
