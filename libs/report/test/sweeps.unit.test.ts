/** Sweep reports: capacity (TTFT and hit rate against the working set, tiers on the axis) and offload vs recompute. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderSweepTable, sweepIds, sweepReport } from '@kvbench/report';
import { sweepRuns } from './fixtures.js';

test('capacity sweep: a point per working set, TTFT of the measured rounds, tiers in tokens, paired ratio', () => {
  const runs = sweepRuns();
  assert.deepEqual(sweepIds(runs), ['sw-cap', 'sw-off']);
  const c = sweepReport(runs, { sweepId: 'sw-cap' }).capacity!;
  assert.deepEqual(c.systems, ['pcie', 'c2c']);
  assert.deepEqual(c.tiers.pcie, { G: 8192, GH: 40960 });
  assert.deepEqual(c.tiers.c2c, { G: 4096, GH: 69632 });
  assert.deepEqual(c.points.map((p) => p.working_set_tokens), [4096, 8192, 16384, 32768, 65536, 98304]);
  // 8 MiB per 64-token block = 128 KiB per token: 16384 tokens are 2 GiB.
  assert.equal(c.points[2]!.working_set_gib, 2);
  const p = c.points[2]!; // 16K: beyond PCIe's G, within both G + H
  assert.equal(p.systems.pcie!.n, 4, 'round 1 warms the cache and is left out');
  assert.ok(Math.abs(p.systems.pcie!.ttft_p50_s! - 0.12 * 1.1) < 0.01);
  assert.equal(p.systems.pcie!.hit_rate, 0.9);
  const vs = p.vs_baseline[0]!;
  assert.equal(vs.system, 'c2c');
  assert.equal(vs.paired, 4);
  assert.ok(Math.abs(vs.ratio! - 1 / 3) < 1e-9);
});

test('offload vs recompute: replay TTFTs, the link bound from KV bytes and the measured bandwidth, speedup; unconfirmed replays left out', () => {
  const o = sweepReport(sweepRuns(), { sweepId: 'sw-off' }).offload!;
  assert.deepEqual(o.points.map((p) => p.prompt_tokens), [1024, 4096, 16384]);
  const c2c = o.points[1]!.systems.c2c!;
  assert.equal(c2c.kv_bytes, 64 * 8388608);
  assert.equal(c2c.bandwidth_gbps, 300);
  assert.ok(Math.abs(c2c.link_bound_s! - (64 * 8388608) / 300e9) < 1e-12);
  assert.ok(c2c.offload!.valid && c2c.recompute!.valid);
  assert.ok(Math.abs(c2c.speedup! - c2c.recompute!.ttft_s! / c2c.offload!.ttft_s!) < 1e-12);
  const pcie16 = o.points[2]!.systems.pcie!;
  assert.equal(pcie16.offload!.valid, false);
  assert.match(pcie16.offload!.invalid_reason!, /onboarded 252 of the prompt's 256 full blocks/);
  assert.equal(pcie16.speedup, null);
  assert.equal(o.points[0]!.systems.pcie!.recompute!.valid, true);
  const text = renderSweepTable(sweepReport(sweepRuns(), { sweepId: 'sw-off' }));
  assert.match(text, /PCIe 16K: the counters confirm 0 of 1 onboard replays \(onboarded 252/);
  assert.match(text, /n\/c \(0\/1\)/);
});

test('replicates: each point is the median of its valid replays with an interval, flagged when slower than its link bound allows; a C2C/PCIe column', () => {
  const base = sweepRuns().filter((r) => (r.run_meta as any).workload.sweep.id === 'sw-off');
  // Three replays of every run, each its own run (a fresh run id); the C2C 4K onboard replays are slow (a late host).
  const runs = [0, 1, 2].flatMap((k) =>
    base.map((r) => {
      const copy = structuredClone(r);
      (copy.run_meta as any).run_id = `${(r.run_meta as any).run_id}-rep${k}`;
      const replay = copy.samples.find((s) => (s.scenario as any)?.step === 'replay')!;
      const slow = (r.run_meta as any).system_label === 'c2c' && (r.run_meta as any).workload.sweep.point === '4096' && (r.run_meta as any).kv_config.host_cache_gb > 0;
      replay.ttft_s = replay.ttft_s! * (1 + 0.01 * k) + (slow ? 0.2 : 0);
      return copy;
    }),
  );
  const o = sweepReport(runs, { sweepId: 'sw-off' }).offload!;
  assert.equal(o.baseline, 'pcie');
  const p4 = o.points.find((x) => x.prompt_tokens === 4096)!;
  const c = p4.systems.c2c!;
  assert.equal(c.offload_replays.n, 3);
  assert.equal(c.offload_replays.valid, 3);
  assert.ok(c.offload_replays.ci_low_s! <= c.offload_replays.ttft_median_s! && c.offload_replays.ttft_median_s! <= c.offload_replays.ci_high_s!);
  assert.ok(c.flags.some((f) => /slower than its link bound allows/.test(f)), JSON.stringify(c.flags));
  assert.equal(p4.systems.pcie!.flags.length, 0, JSON.stringify(p4.systems.pcie!.flags));
  const ratio = p4.vs_baseline.find((v) => v.system === 'c2c')!;
  assert.ok(ratio.ratio! > 1, 'the slow C2C replays make C2C slower than PCIe here');
  assert.ok(ratio.ci_low !== null && ratio.ci_high !== null);
  // The invalid PCIe 16K replays: counted as run, none confirmed, flagged.
  const p16 = o.points.find((x) => x.prompt_tokens === 16384)!.systems.pcie!;
  assert.deepEqual([p16.offload_replays.n, p16.offload_replays.valid], [3, 0]);
  assert.ok(p16.flags.some((f) => /confirm 0 of 3 onboard replays/.test(f)));
  const text = renderSweepTable(sweepReport(runs, { sweepId: 'sw-off' }));
  assert.match(text, /C2C\/PCIe onboard/);
  assert.match(text, /\(3\/3\) !/);
});

test('the link bound falls back to the link check at the block size, then to the profile\'s figure', () => {
  const runs = sweepRuns();
  const off = runs.filter((r) => (r.run_meta as any).workload.sweep.id === 'sw-off' && (r.run_meta as any).kv_config.host_cache_gb > 0);
  for (const r of off) (r.log_metrics as any).observed_onboard_bandwidth_gbps = null;
  const c2c = off.find((r) => (r.run_meta as any).system_label === 'c2c' && (r.run_meta as any).workload.sweep.point === '4096')!;
  (c2c.run_meta as any).link_check = { status: 'ok', blocks: [{ layout: 'x', block_bytes: 4096, h2d_GBps: 1 }, { layout: 'y', block_bytes: 8388608, h2d_GBps: 200 }] };
  const pcie = off.find((r) => (r.run_meta as any).system_label === 'pcie' && (r.run_meta as any).workload.sweep.point === '4096')!;
  (pcie.run_meta as any).kv_pools.h2d_block_gbps = 20;
  const p = sweepReport(runs, { sweepId: 'sw-off' }).offload!.points.find((x) => x.prompt_tokens === 4096)!;
  assert.equal(p.systems.c2c!.bandwidth_gbps, 200);
  assert.match(p.systems.c2c!.bandwidth_source!, /^link check/);
  assert.equal(p.systems.pcie!.bandwidth_gbps, 20);
  assert.match(p.systems.pcie!.bandwidth_source!, /^profiled/);
  assert.ok(Math.abs(p.systems.pcie!.link_bound_s! - (64 * 8388608) / 20e9) < 1e-12);
  const none = sweepReport(runs, { sweepId: 'sw-off' }).offload!.points.find((x) => x.prompt_tokens === 1024)!;
  assert.equal(none.systems.pcie!.link_bound_s, null);
  assert.match(none.systems.pcie!.null_reasons.bandwidth_gbps!, /not measured/);
});

test('a replay whose TTFT is mostly outside the engine is flagged host-dominated, with the engine\'s own first token beside it', () => {
  const runs = sweepRuns().filter((r) => (r.run_meta as any).workload.sweep.id === 'sw-off');
  for (const r of runs) {
    const replay = r.samples.find((s) => (s.scenario as any)?.step === 'replay')!;
    // The engine took a fifth of the TTFT; the rest was the client and the transport.
    replay.breakdown = { client_wait_s: replay.ttft_s! * 0.8, to_engine_s: 0, engine_queue_s: 0, first_token_s: replay.ttft_s! * 0.2, to_client_s: 0, clock: 'same-host', joined_by: 'test', null_reasons: {} } as any;
  }
  const p = sweepReport(runs, { sweepId: 'sw-off' }).offload!.points.find((x) => x.prompt_tokens === 4096)!;
  const c = p.systems.c2c!;
  assert.ok(Math.abs(c.offload_replays.engine_first_token_median_s! - c.offload_replays.ttft_median_s! * 0.2) < 1e-12);
  assert.ok(c.flags.some((f) => /^host-dominated: /.test(f)), JSON.stringify(c.flags));
  assert.match(renderSweepTable(sweepReport(runs, { sweepId: 'sw-off' })), /host-dominated/);
});

test('on an engine that offloads what it evicts, the replay\'s link bound counts the offloads its reload forces, within the joint cap', () => {
  const runs = sweepRuns();
  const off = runs.filter((r) => (r.run_meta as any).workload.sweep.id === 'sw-off' && (r.run_meta as any).kv_config.host_cache_gb > 0);
  const at4096 = (label: string) => off.find((r) => (r.run_meta as any).system_label === label && (r.run_meta as any).workload.sweep.point === '4096')!;
  const kv = 64 * 8388608;
  // PCIe as the H100 profile has it: 54 GB/s each way, 88 GB/s for both together.
  const pcie = at4096('pcie');
  (pcie.run_meta as any).engine = { kind: 'sim' };
  (pcie.log_metrics as any).observed_onboard_bandwidth_gbps = 54;
  (pcie.log_metrics as any).observed_offload_bandwidth_gbps = 54;
  (pcie.run_meta as any).kv_pools.bidirectional_gbps = 88;
  // vLLM stores a request's KV after it ends: its replay forces no offload, the onboard alone bounds it.
  const c2c = at4096('c2c');
  (c2c.run_meta as any).engine = { kind: 'openai' };
  (c2c.log_metrics as any).observed_offload_bandwidth_gbps = 10;
  const p = sweepReport(runs, { sweepId: 'sw-off' }).offload!.points.find((x) => x.prompt_tokens === 4096)!;
  assert.ok(Math.abs(p.systems.pcie!.link_bound_s! - (2 * kv) / 88e9) < 1e-12, String(p.systems.pcie!.link_bound_s));
  assert.match(p.systems.pcie!.bandwidth_source!, /offloads the reload forces .*within 88 GB\/s together/);
  assert.ok(Math.abs(p.systems.c2c!.link_bound_s! - kv / 300e9) < 1e-12);
  assert.match(p.systems.c2c!.bandwidth_source!, /onboard alone/);
  // Without a joint cap the slower direction bounds it.
  delete (pcie.run_meta as any).kv_pools.bidirectional_gbps;
  (pcie.log_metrics as any).observed_offload_bandwidth_gbps = 40;
  const q = sweepReport(runs, { sweepId: 'sw-off' }).offload!.points.find((x) => x.prompt_tokens === 4096)!;
  assert.ok(Math.abs(q.systems.pcie!.link_bound_s! - kv / 40e9) < 1e-12);
});

test('a sweep says what its figures are: the simulator\'s model (and why a virtual-clock interval is zero-width), a measurement, or a mix', () => {
  const runs = sweepRuns();
  const withMeta = (rs: typeof runs, meta: Record<string, unknown>) => rs.map((r) => ({ ...r, run_meta: { ...r.run_meta, ...meta } }));
  const virtual = sweepReport(withMeta(runs, { simulated: true, clock: 'virtual' }), { sweepId: 'sw-cap' });
  assert.deepEqual({ ...virtual.capacity!.provenance, note: undefined }, { simulated: 'all', clock: 'virtual', note: undefined });
  assert.match(virtual.capacity!.provenance.note!, /^SIMULATED: .*model.*zero-width/);
  const text = renderSweepTable(virtual);
  assert.match(text.split('\n')[0]!, /^SIMULATED: /, 'the first line of the terminal table says it');
  const real = sweepReport(withMeta(runs, { simulated: true, clock: 'real' }), { sweepId: 'sw-cap' });
  assert.doesNotMatch(real.capacity!.provenance.note!, /zero-width/);
  const measured = sweepReport(withMeta(runs, { simulated: false, clock: undefined }), { sweepId: 'sw-off' });
  assert.deepEqual(measured.offload!.provenance, { simulated: 'none', clock: null, note: null });
  assert.doesNotMatch(renderSweepTable(measured), /SIMULATED|MIXED/);
  const mixed = sweepReport(runs.map((r, i) => ({ ...r, run_meta: { ...r.run_meta, simulated: i % 2 === 0 } })), { sweepId: 'sw-cap' });
  assert.equal(mixed.capacity!.provenance.simulated, 'some');
  assert.match(mixed.capacity!.provenance.note!, /^MIXED: \d+ of \d+ runs/);
});
