import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '@kvbench/common';
import { TimingModel, loadProfile, parseProfile, resolveModelShape } from '@kvbench/engine-sim';
import { buildProfile, fitDecode, parseProbeRaw, profileJson, type ProbeRaw } from '../src/index.js';
import { MEASURED_DIR, PROFILES_DIR, readJson, readText } from './helpers.js';

const rawPath = join(MEASURED_DIR, 'h100-pcie-gen5.raw.json');
const raw = (): ProbeRaw => parseProbeRaw(readJson(rawPath));
const rel = 'profiles/measured/h100-pcie-gen5.raw.json';

test('the profile built from the recorded H100 output validates against the simulator schema', () => {
  const { profile, warnings } = buildProfile(raw(), { name: 'h100-pcie-gen5', system: 'pcie', rawSource: rel });
  assert.deepEqual(warnings, []);
  assert.deepEqual(parseProfile(JSON.parse(profileJson(profile))), profile, 'profileJson round-trips');
  assert.equal(profile.link.kind, 'PCIe Gen5 x16');
  assert.equal(profile.compute.gpu, 'NVIDIA H100 80GB HBM3');
  assert.deepEqual(profile.compute.prefill.map((p) => p.shape), ['llama-3.1-8b', 'llama-3-70b']);
  assert.ok(profile.measured?.tool.startsWith('kvbench probe'));
  assert.ok(profile.sources.every((s) => s.source.includes(rel)), 'every source cites the raw file');
});

test('every link figure in the profile is a measurement in the raw output', () => {
  const r = raw();
  const { profile } = buildProfile(r, { name: 'x' });
  for (const dir of ['h2d', 'd2h'] as const) {
    for (const pinned of [true, false]) {
      const rows = pinned ? profile.link[dir].pinned : profile.link[dir].pageable!;
      for (const [bytes, GBps] of rows) {
        const c = r.copies.filter((x) => x.dir === dir && x.pinned === pinned && x.bytes === bytes);
        assert.equal(c.length, 1);
        assert.equal(GBps, c[0]!.GBps);
      }
      assert.equal(rows.length, r.copies.filter((x) => x.dir === dir && x.pinned === pinned).length);
    }
    for (const [bytes, GBps] of profile.link.block_copy![dir]) {
      const m = r.block_copies.filter((b) => b.dir === dir && b.streams === 1 && b.block_bytes === bytes).map((b) => b.GBps);
      assert.ok(m.length >= 1, `block size ${bytes} measured`);
      assert.ok(GBps >= Math.min(...m) && GBps <= Math.max(...m), 'median of the measurements at that size');
    }
  }
  const single = r.bidirectional.filter((b) => b.kind === 'single');
  assert.equal(profile.link.bidirectional_total_GBps, single[0]!.total_GBps);
  for (const ref of profile.compute.prefill) {
    const c = r.compute.find((x) => x.shape === ref.shape)!;
    assert.deepEqual(ref.points, c.prefill.map((p) => [p.tokens, p.seconds]));
  }
});

test('the decode fit reproduces the measured decode steps through the simulator time model', () => {
  const r = raw();
  const { profile, decodeFit } = buildProfile(r, { name: 'x' });
  assert.ok(decodeFit && decodeFit.points === r.compute.reduce((n, c) => n + c.decode.length, 0));
  for (const c of r.compute) {
    const tm = new TimingModel(profile, resolveModelShape(c.shape), 64);
    for (const d of c.decode) {
      const sim = tm.decodeStepSeconds(d.batch, d.batch * (d.context + 1));
      assert.ok(Math.abs(sim - d.seconds) / d.seconds <= decodeFit.max_rel_error + 1e-6, `${c.shape} ${d.batch}x${d.context}: sim ${sim} vs measured ${d.seconds}`);
    }
  }
});

test('fitDecode: an exact line is recovered; a negative intercept falls back to a line through the origin', () => {
  const bw = 3e12, over = 0.002;
  const f = fitDecode([1e10, 2e10, 5e10].map((b) => [b, b / bw + over] as [number, number]))!;
  assert.ok(Math.abs(f.effective_hbm_GBps - 3000) < 0.5);
  assert.ok(Math.abs(f.step_overhead_s - over) < 1e-6);
  assert.ok(f.max_rel_error < 1e-3);
  const g = fitDecode([[1e10, 0.002], [2e10, 0.005]])!;
  assert.equal(g.step_overhead_s, 0);
  assert.ok(g.effective_hbm_GBps > 0);
  assert.equal(fitDecode([]), null);
});

test('quick (link-check) output has no compute: building a profile from it is a ValidationError', () => {
  const quick = parseProbeRaw(readJson(join(MEASURED_DIR, 'h100-pcie-gen5.quick.raw.json')));
  assert.throws(() => buildProfile(quick, { name: 'q' }), (e: unknown) => e instanceof ValidationError && e.field === 'compute');
  const noLink = { ...raw(), copies: [] };
  assert.throws(() => buildProfile(noLink, { name: 'q' }), (e: unknown) => e instanceof ValidationError && e.field === 'copies');
});

test('an unknown shape is left out with a warning; a bad name fails the schema', () => {
  const r = raw();
  const renamed = { ...r, compute: r.compute.map((c, i) => (i === 1 ? { ...c, shape: 'my-model' } : c)) };
  const { profile, warnings } = buildProfile(renamed, { name: 'x' });
  assert.deepEqual(profile.compute.prefill.map((p) => p.shape), ['llama-3.1-8b']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /my-model/);
  assert.throws(() => buildProfile(r, { name: 'Bad Name' }), ValidationError);
});

interface ShippedSpec {
  name: string;
  system?: string;
  raw: string;
  cached_from?: string;
  later?: Array<{ raw: string; reason?: string }>;
  cached_reason?: string;
}
const shippedSpecs = (): ShippedSpec[] =>
  (readJson(fileURLToPath(new URL('../../scripts/shipped-profiles.json', import.meta.url))) as { profiles: ShippedSpec[] }).profiles;
const simRaw = (relPath: string): ProbeRaw => parseProbeRaw(readJson(join(PROFILES_DIR, '..', relPath)));

test('every shipped probe-measured profile is its committed raw output built (libs/probe/scripts/build-shipped-profiles.mjs)', () => {
  const specs = shippedSpecs();
  assert.deepEqual(specs.map((s) => s.name), ['h100-pcie-gen5', 'h200-pcie-gen5']);
  for (const s of specs) {
    const shipped = loadProfile(s.name, PROFILES_DIR);
    assert.equal(shipped.measured?.['raw'], s.raw, 'issue 8: measured by kvbench probe, not taken from the anchors');
    assert.ok(existsSync(join(PROFILES_DIR, '..', s.raw)));
    const { profile, warnings } = buildProfile(simRaw(s.raw), {
      name: s.name,
      ...(s.system ? { system: s.system } : {}),
      rawSource: s.raw,
      ...(s.cached_from ? { cachedPrefillFrom: { raw: simRaw(s.cached_from), rawSource: s.cached_from, reason: s.cached_reason! } } : {}),
      ...(s.later ? { laterRuns: s.later.map((l) => ({ raw: simRaw(l.raw), rawSource: l.raw, ...(l.reason ? { reason: l.reason } : {}) })) } : {}),
    });
    assert.deepEqual(warnings, []);
    assert.equal(readText(join(PROFILES_DIR, `${s.name}.json`)), profileJson(profile), `${s.name}: regenerate with libs/probe/scripts/build-shipped-profiles.mjs`);
  }
  assert.equal(basename(rawPath), 'h100-pcie-gen5.raw.json');
});

const h200Rel = 'profiles/measured/h200-pcie-gen5.raw.json';
const h200 = (): ProbeRaw => parseProbeRaw(readJson(join(MEASURED_DIR, 'h200-pcie-gen5.raw.json')));

test('the cached-prefill tables and the three cases in the H200 profile are the recorded probe output, figure for figure', () => {
  const r = h200();
  const { profile, warnings } = buildProfile(r, { name: 'h200-pcie-gen5', rawSource: h200Rel });
  assert.deepEqual(warnings, []);
  assert.equal(profile.compute.gpu, 'NVIDIA H200');
  assert.equal(profile.link.kind, 'PCIe Gen5 x16');
  const tables = profile.compute.prefill_cached!;
  assert.deepEqual(tables.map((t) => t.shape), ['llama-3.1-8b', 'llama-3-70b']);
  for (const t of tables) {
    const c = r.cached_prefill.find((x) => x.shape === t.shape)!;
    assert.deepEqual(t.points, c.points.map((p) => [p.cached, p.new, p.seconds]));
    assert.equal(t.measured_on, undefined, 'measured on the profile\'s own GPU');
  }
  const m = profile.measured!.offload_vs_recompute!;
  assert.equal(m.shape, 'llama-3.1-8b');
  assert.equal(m.rows.length, r.offload_vs_recompute!.rows.length);
  for (const [i, row] of m.rows.entries()) {
    const x = r.offload_vs_recompute!.rows[i]!;
    assert.deepEqual([row.prompt_tokens, row.suffix_tokens, row.cached_tokens, row.onboard_blocks], [x.prompt_tokens, x.suffix_tokens, x.cached_tokens, x.onboard_blocks]);
    assert.deepEqual([row.recompute_s, row.onboard_s, row.onboard_copy_s, row.gpu_hit_s], [x.recompute_s, x.onboard_s, x.onboard_copy_s, x.gpu_hit_s]);
    assert.equal(row.block_bytes, 8 * 2 ** 20);
  }
  assert.ok(profile.sources.some((s) => s.what === 'compute.prefill_cached' && s.source.includes(h200Rel)));
  // The simulator times a request from these tables: a grid point comes back as measured.
  const tm = new TimingModel(profile, resolveModelShape('llama-3.1-8b'), 64);
  for (const [c, n, s] of tables[0]!.points) assert.ok(Math.abs(tm.prefillSeconds(n, c) - s) < 1e-12, `${c}+${n}`);
});

test('tables from another machine say so; output without the section builds as before; a shape the simulator does not know is left out', () => {
  const foreign = { raw: h200(), rawSource: h200Rel, reason: 'testing' };
  const { profile } = buildProfile(raw(), { name: 'x', cachedPrefillFrom: foreign });
  assert.ok(profile.compute.prefill_cached!.every((t) => t.measured_on === 'NVIDIA H200' && t.note!.includes('testing')));
  assert.equal(profile.measured!.offload_vs_recompute, undefined, 'the three cases are only the own machine\'s');
  const plain = buildProfile(raw(), { name: 'x' }).profile;
  assert.equal(plain.compute.prefill_cached, undefined);
  const renamed = { ...h200(), cached_prefill: h200().cached_prefill.map((c, i) => (i === 1 ? { ...c, shape: 'my-model' } : c)) };
  const built = buildProfile(renamed, { name: 'x' });
  assert.deepEqual(built.profile.compute.prefill_cached!.map((t) => t.shape), ['llama-3.1-8b']);
  assert.ok(built.warnings.some((w) => /cached_prefill: shape 'my-model'/.test(w)));
});
