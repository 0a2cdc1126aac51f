import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEngine, runToIdle, tokens } from './helpers.js';
import { CachedPrefillGrid } from '../src/cached-prefill.js';
import { loadProfile, parseProfile, type Profile } from '../src/profile.js';
import { resolveModelShape } from '../src/shapes.js';
import { TimingModel } from '../src/timing.js';
import { threeCases } from '../src/validation.js';
import type { RequestOutcome } from '../src/engine.js';

const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.abs(b);

test('a request with C cached and N new tokens is timed from the measured table (h200-pcie-gen5)', () => {
  const profile = loadProfile('h200-pcie-gen5');
  const table = profile.compute.prefill_cached!.find((t) => t.shape === 'llama-3.1-8b')!;
  const point = (c: number, n: number) => table.points.find(([pc, pn]) => pc === c && pn === n)![2];
  // Through the engine: A (8192 tokens) is computed; B = A + 512 new tokens reuses A's 128 blocks
  // from the GPU and computes 512 tokens over 8192 cached ones: its TTFT is that table entry.
  const engine = makeEngine({ profile: 'h200-pcie-gen5', gpuBlocks: 512, tokensPerBlock: 64, maxNumTokens: 16384, maxBatchSize: 1 });
  const A = tokens(1, 8192);
  const B = tokens(2, 8192 + 512);
  B.set(A);
  const done: RequestOutcome[] = [];
  let t = 0;
  for (const [id, toks] of [[1, A], [2, B]] as const) {
    engine.enqueue({ id, tokens: toks, maxTokens: 1 }, t);
    for (const r of runToIdle(engine, t)) {
      done.push(...r.finished);
      t = r.end;
    }
  }
  const a = done.find((o) => o.id === 1)!, b = done.find((o) => o.id === 2)!;
  assert.equal(b.cachedTokens, 8192);
  assert.equal(b.onboardedBlocks, 0);
  assert.ok(close(b.firstToken - b.arrival, point(8192, 512)), `TTFT ${b.firstToken - b.arrival} vs table ${point(8192, 512)}`);
  assert.ok(close(a.firstToken - a.arrival, point(0, 8192)), 'the cold prompt is the table entry with nothing cached');
  // The suffix pays its full pass: far more than the attention-only difference of the C = 0 fit.
  const tm = engine.timing;
  assert.ok(tm.prefillSeconds(1, 65535) > 0.008, `one new token over 64K: ${tm.prefillSeconds(1, 65535)} s`);
  // Between measured contexts, linear in C.
  const mid = tm.prefillSeconds(512, 6144);
  assert.ok(close(mid, (point(4096, 512) + point(8192, 512)) / 2));
});

test('the grid: linear in C, power law between Ns, the smallest N holds below it, chunks past the largest N', () => {
  const grid = new CachedPrefillGrid({
    points: [
      [0, 1, 1], [100, 1, 2],
      [0, 100, 10], [100, 100, 30],
      [0, 10000, 1000],
    ],
  });
  assert.equal(grid.seconds(0, 0), 0);
  assert.equal(grid.seconds(50, 1), 1.5);
  assert.equal(grid.seconds(200, 1), 3, 'extrapolated with the last segment');
  assert.ok(close(grid.seconds(0, 10), Math.sqrt(10)), 'log-log between N = 1 and N = 100 at C = 0');
  assert.equal(new CachedPrefillGrid({ points: [[0, 4, 2], [0, 16, 8]] }).seconds(0, 2), 2, 'below the smallest N: the weight-bound floor holds');
  // One-point row (N = 10000): slope borrowed from N = 100 (0.2 s per cached token), × 10000 / 100.
  assert.ok(close(grid.seconds(100, 10000), 1000 + 100 * 0.2 * 100));
  // Past the largest N: chunks of 10000, each over what came before.
  assert.ok(close(grid.seconds(0, 20000), grid.seconds(0, 10000) + grid.seconds(10000, 10000)));
});

test('other shapes and tensor parallelism scale the table; a profile without one keeps the fit', () => {
  const profile = loadProfile('h200-pcie-gen5');
  const t8 = new TimingModel(profile, resolveModelShape('llama-3.1-8b'), 64);
  const q = new TimingModel(profile, resolveModelShape('Qwen/Qwen3-8B'), 64);
  assert.equal(q.cachedPrefill!.table.shape, 'llama-3.1-8b', 'Qwen3-8B has no table: the 8B one, scaled');
  assert.ok(q.prefillSeconds(512, 8192) > t8.prefillSeconds(512, 8192));
  assert.ok(q.prefillSeconds(512, 8192) < 1.3 * t8.prefillSeconds(512, 8192));
  const t1 = new TimingModel(profile, resolveModelShape('llama-3-70b', { tp: 1 }), 64);
  const t4 = new TimingModel(profile, resolveModelShape('llama-3-70b', { tp: 4 }), 64);
  assert.equal(t1.cachedPrefill!.table.shape, 'llama-3-70b');
  assert.ok(close(t1.prefillSeconds(2048, 4096) / t4.prefillSeconds(2048, 4096), 4));
  const bare: Profile = structuredClone(profile);
  delete bare.compute.prefill_cached;
  const fit = new TimingModel(parseProfile(bare), resolveModelShape('llama-3.1-8b'), 64);
  assert.equal(fit.cachedPrefill, null);
  assert.ok(fit.prefillSeconds(1, 65535) < 0.005, 'the C = 0 fit has no fixed per-pass cost');
});

test('a table needs a C = 0 row and one point per (C, N)', () => {
  const p = structuredClone(loadProfile('h200-pcie-gen5')) as unknown as { compute: { prefill_cached: Array<{ points: number[][] }> } };
  p.compute.prefill_cached[0]!.points = [[1024, 1, 0.1], [2048, 1, 0.2]];
  assert.throws(() => parseProfile(p), /C = 0/);
  p.compute.prefill_cached[0]!.points = [[0, 1, 0.1], [0, 1, 0.2]];
  assert.throws(() => parseProfile(p), /one point per/);
});

test('the three measured cases on the H200, through the engine: within 15% of the measurement at every length', () => {
  const rows = threeCases('h200-pcie-gen5');
  const measured = loadProfile('h200-pcie-gen5').measured!.offload_vs_recompute!.rows;
  assert.equal(rows.length, measured.length);
  assert.deepEqual([...new Set(rows.map((r) => r.promptTokens))], [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]);
  for (const [i, r] of rows.entries()) {
    assert.equal(r.onboardedBlocks, measured[i]!.onboard_blocks, `${r.promptTokens}/${r.suffixTokens}: the engine onboards what the probe copied`);
    assert.equal(r.cachedTokens, measured[i]!.cached_tokens);
    for (const [k, e] of Object.entries(r.error)) assert.ok(Math.abs(e) < 0.15, `${r.promptTokens}/${r.suffixTokens} ${k}: ${(100 * e).toFixed(1)}%`);
  }
});
