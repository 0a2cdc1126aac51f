/**
 * Batched-pass pricing (batched.ts): ratios from a table (a test table, not a measurement),
 * interpolated and held at the edges, never above 1; and the engine pricing an iteration of several
 * chunks as one pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchedPricing } from '../src/batched.js';
import { loadProfile } from '../src/profile.js';
import { makeEngine, runToIdle, tokens } from './helpers.js';

// chunks: [n, k, seconds]; mixed: [n, B, C, seconds]
const table = {
  shape: 'llama-3.1-8b',
  tp: 1,
  chunks: [[128, 1, 0.01], [128, 2, 0.012], [128, 8, 0.024], [2048, 1, 0.1], [2048, 8, 0.8]] as Array<[number, number, number]>,
  mixed: [[0, 32, 1024, 0.01], [128, 32, 1024, 0.016], [0, 32, 4096, 0.012], [128, 32, 4096, 0.0176]] as Array<[number, number, number, number]>,
};

test('ratios at the measured points, interpolated in log between them, held at the edges, capped at 1', () => {
  const p = new BatchedPricing(table);
  assert.equal(p.chunksRatio(128, 1), 1);
  assert.ok(Math.abs(p.chunksRatio(128, 8) - 0.3) < 1e-12);
  assert.ok(Math.abs(p.chunksRatio(128, 2) - 0.6) < 1e-12);
  // k = 4 is halfway between 2 and 8 in log: (0.6 + 0.3) / 2.
  assert.ok(Math.abs(p.chunksRatio(128, 4) - 0.45) < 1e-12);
  assert.ok(Math.abs(p.chunksRatio(128, 64) - 0.3) < 1e-12, 'held past the largest k');
  assert.equal(p.chunksRatio(2048, 8), 1, 'compute-bound chunks: no saving');
  assert.ok(Math.abs(p.mixedRatioAt(128, 32, 1024) - 0.8) < 1e-12);
  assert.ok(Math.abs(p.mixedRatioAt(128, 32, 2048) - 0.8) < 1e-12);
  assert.equal(p.mixedRatioAt(0, 32, 1024), 1);
});

test('the engine prices an iteration of eight short prompts as one pass', () => {
  const base = loadProfile('h200-pcie-gen5');
  const profile = { ...base, compute: { ...base.compute, batched: table } };
  const one = makeEngine({ profile });
  one.enqueue({ id: 1, tokens: tokens(1, 128), maxTokens: 1 }, 0);
  const alone = runToIdle(one)[0]!.computeSeconds;
  const eight = makeEngine({ profile });
  for (let i = 0; i < 8; i++) eight.enqueue({ id: i + 1, tokens: tokens(i + 1, 128), maxTokens: 1 }, 0);
  const its = runToIdle(eight);
  assert.equal(its.length, 1);
  assert.ok(Math.abs(its[0]!.computeSeconds / alone - 8 * 0.3) < 1e-9, `${its[0]!.computeSeconds / alone}`);
  // Each request's own prefill share adds up to the pass.
  const perf = eight.drainPerfMetrics() as Array<{ sim: { prefill_s: number } }>;
  const sum = perf.reduce((a, e) => a + e.sim.prefill_s, 0);
  assert.ok(Math.abs(sum - its[0]!.computeSeconds) < 1e-9);
});

test('shipped profiles: eight simultaneous 128-token prompts cost 2-4x one alone; a chunk with 32-128 decodes costs less than the two apart', () => {
  for (const name of ['h200-pcie-gen5', 'h100-pcie-gen5', 'gh200-c2c']) {
    const profile = loadProfile(name);
    assert.ok(profile.compute.batched, `${name} has a batched table`);
    const t = makeEngine({ profile }).timing;
    const chunk = { newTokens: 128, cachedTokens: 0 };
    const one = t.iterationComputeSeconds([chunk], 0, 0).seconds;
    const eight = t.iterationComputeSeconds(Array.from({ length: 8 }, () => chunk), 0, 0).seconds;
    assert.ok(eight / one >= 2 && eight / one <= 4, `${name}: ${eight / one}`);
    for (const B of [32, 64, 128]) {
      const apart = t.prefillSeconds(128, 0) + t.decodeStepSeconds(B, B * 2048);
      const share = t.iterationComputeSeconds([chunk], B, B * 2048).seconds / apart;
      assert.ok(share > 0.5 && share < 1, `${name} B=${B}: ${share}`);
    }
  }
});

for (const name of ['h100-pcie-gen5', 'h200-pcie-gen5']) {
  test(`${name}: simulated offload-vs-recompute speedup within 15% of its own probe measurement at 4K-64K`, async () => {
    const { threeCases } = await import('../src/validation.js');
    const rows = threeCases(name).filter((r) => r.promptTokens >= 4096 && r.promptTokens <= 65536);
    assert.ok(rows.length >= 10);
    for (const r of rows) {
      const measured = r.measured.recomputeS / r.measured.onboardS;
      const simulated = r.simulated.recomputeS / r.simulated.onboardS;
      assert.ok(Math.abs(simulated / measured - 1) <= 0.15, `${name} ${r.promptTokens}+${r.suffixTokens}: ${simulated} vs ${measured}`);
    }
  });
}
