import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
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

test('the shipped h100-pcie-gen5 profile comes from kvbench\'s own measurement: built from the committed raw output', () => {
  const shipped = loadProfile('h100-pcie-gen5', PROFILES_DIR);
  assert.equal(shipped.measured?.['raw'], rel, 'issue 8: the PCIe profile is measured by kvbench probe, not taken from the anchors');
  assert.ok(existsSync(join(PROFILES_DIR, '..', rel)));
  const { profile } = buildProfile(raw(), { name: 'h100-pcie-gen5', system: 'pcie', rawSource: rel });
  assert.equal(readText(join(PROFILES_DIR, 'h100-pcie-gen5.json')), profileJson(profile), 'regenerate with libs/probe/scripts/build-profile.mjs');
  assert.equal(basename(rawPath), 'h100-pcie-gen5.raw.json');
});
