/**
 * The sweeps as a user runs them: `kvbench sweep …` on the simulator with its measured profiles
 * (h100-pcie-gen5), reading the sweep file it writes. Figures compared are the simulator's
 * modelled times and its own block counters, never wall-clock speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '@kvbench/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const run = promisify(execFile);
const kvbench = (args: string[]) => run(process.execPath, [MAIN, ...args], { timeout: 300_000 });
const MODEL = ['--model', 'meta-llama/Llama-3.1-8B-Instruct'];

test('sweep capacity: the GPU hit rate falls once the working set passes G, the hit rate once it passes G + H', async () => {
  const dir = await tempDir();
  try {
    // G = 4096 tokens; H = 0.5 GiB / 128 KiB per token = 4096 tokens.
    await kvbench(['sweep', 'capacity', '--systems', 'pcie', ...MODEL, '--gpu_kv_max_tokens', '4096', '--host_cache_gb', '0.5',
      '--document_tokens', '512', '--question_tokens', '16', '--points', '0.5G', '1.5G', '1.5GH', '--max_seq_len', '4096',
      '--out', join(dir.path, 'cap.json'), '--output_json', join(dir.path, 'runs.json')]);
    const sweep = JSON.parse(await readFile(join(dir.path, 'cap.json'), 'utf8'));
    const [inGpu, inHost, beyond] = sweep.points.map((p: any) => ({ ...p.systems.pcie, tier: p.tier.pcie, ws: p.working_set_tokens }));
    assert.deepEqual([inGpu.tier, inHost.tier, beyond.tier], ['gpu', 'gpu+host', 'beyond']);
    assert.deepEqual([inGpu.ws, inHost.ws, beyond.ws], [2048, 6144, 12288]);
    assert.ok(inGpu.gpu_hit_rate > 0.4, `below G the second round hits the GPU pool (${inGpu.gpu_hit_rate})`);
    assert.equal(inHost.gpu_hit_rate, 0, 'past G, tile order leaves LRU nothing on the GPU');
    assert.ok(Math.abs(inHost.hit_rate - inGpu.hit_rate) < 1e-9, 'but every block is still found on the host');
    assert.equal(beyond.hit_rate, 0, 'past G + H nothing is found');
    assert.ok(inHost.onboarded_blocks > 0);
    const runs = JSON.parse(await readFile(join(dir.path, 'runs.json'), 'utf8'));
    assert.equal(runs.runs.pcie.length, 3);
    const s = runs.runs.pcie[1].samples.find((x: any) => x.scenario.round === 2);
    assert.equal(s.scenario.sweep_id, sweep.sweep_id);
    assert.equal(s.scenario.sweep_point, '1.5G');
    assert.equal(s.scenario.kind, 'docqa');
  } finally {
    await dir.cleanup();
  }
});

test('sweep offload: replays counted only when the counters confirm the tier; recompute / offload grows with length; C2C faster than PCIe at every point', async () => {
  const dir = await tempDir();
  try {
    // Both shipped profiles (h100-pcie-gen5, gh200-c2c) on the virtual clock (the sweep's default on
    // the simulator), 3 replays per point and mode (the default). 4096 is block-aligned, 16392 ends in
    // a partial block.
    await kvbench(['sweep', 'offload', '--systems', 'pcie', 'c2c', ...MODEL, '--gpu_kv_max_tokens', '32768', '--host_cache_gb', '8',
      '--lengths', '4096', '16392', '--unaligned_offset', '0', '--max_seq_len', '32768', '--max_batch_size', '4',
      '--out', join(dir.path, 'off.json'), '--output_json', join(dir.path, 'runs.json')]);
    const sweep = JSON.parse(await readFile(join(dir.path, 'off.json'), 'utf8'));
    assert.deepEqual(sweep.points.map((p: any) => p.prompt_tokens), [4096, 16392]);
    for (const p of sweep.points) {
      for (const sys of ['pcie', 'c2c']) {
        const x = p.systems[sys];
        assert.equal(x.offload_replays.length, 3, `${sys} ${p.point}: 3 onboard replays`);
        assert.equal(x.recompute_replays.length, 3, `${sys} ${p.point}: 3 recompute replays`);
        for (const r of x.offload_replays) {
          assert.ok(r.valid, `${sys} ${p.point} offload: ${r.invalid_reason}`);
          assert.equal(r.onboarded_blocks, Math.floor(p.prompt_tokens / 64));
        }
        for (const r of x.recompute_replays) {
          assert.ok(r.valid, `${sys} ${p.point} recompute: ${r.invalid_reason}`);
          assert.equal(r.reused_blocks, 0);
        }
      }
    }
    const ratio = (n: number) => sweep.points.find((p: any) => p.prompt_tokens === n).systems.pcie.recompute_over_offload;
    assert.ok(ratio(4096) > 1 && ratio(16392) > ratio(4096), `recompute/offload ${ratio(4096)} at 4K, ${ratio(16392)} at 16K`);
    // The report's view of the same runs: a median and interval per point from every replay, and
    // C2C's onboard median below PCIe's with the whole interval of the ratio below 1.
    for (const p of sweep.report.points) {
      for (const sys of ['pcie', 'c2c']) {
        const st = p.systems[sys].offload_replays;
        assert.ok(st.n >= 3 && st.valid === st.n, `${sys} ${p.prompt_tokens}: ${st.valid} of ${st.n} replays confirmed`);
        assert.ok(st.ci_low_s !== null && st.ci_low_s <= st.ttft_median_s && st.ttft_median_s <= st.ci_high_s, `${sys} ${p.prompt_tokens}: interval ${st.ci_low_s}–${st.ci_high_s}`);
      }
      assert.ok(p.systems.c2c.offload_replays.ttft_median_s < p.systems.pcie.offload_replays.ttft_median_s, `${p.prompt_tokens}: C2C ${p.systems.c2c.offload_replays.ttft_median_s} s, PCIe ${p.systems.pcie.offload_replays.ttft_median_s} s`);
      // The virtual clock leaves no host in the figures, so nothing may be flagged.
      for (const sys of ['pcie', 'c2c']) assert.deepEqual(p.systems[sys].flags, [], `${sys} ${p.prompt_tokens}`);
      const vs = p.vs_baseline.find((v: any) => v.system === 'c2c');
      assert.ok(vs.ci_high !== null && vs.ci_high < 1, `${p.prompt_tokens}: C2C/PCIe ${vs.ratio} [${vs.ci_low}–${vs.ci_high}]`);
    }

    // Too little eviction traffic: the prompt stays on the GPU, and the replay is kept but not counted.
    await kvbench(['sweep', 'offload', '--replays', '1', '--systems', 'pcie', ...MODEL, '--gpu_kv_max_tokens', '8192', '--host_cache_gb', '2',
      '--lengths', '1024', '--unaligned_offset', '0', '--eviction_factor', '0.25', '--max_seq_len', '8192',
      '--out', join(dir.path, 'weak.json'), '--output_json', join(dir.path, 'runs2.json')]);
    const weak = JSON.parse(await readFile(join(dir.path, 'weak.json'), 'utf8')).points[0].systems.pcie;
    assert.equal(weak.offload.valid, false);
    assert.match(weak.offload.invalid_reason, /onboarded 0 of the prompt's 16 full blocks/);
    assert.equal(weak.recompute_over_offload, null);
  } finally {
    await dir.cleanup();
  }
});

test('sweeps refuse bad input before running anything, naming the flag', async () => {
  await assert.rejects(kvbench(['sweep', 'capacity', '--systems', 'pcie', ...MODEL, '--points', '2GH', '--max_working_set_tokens', '1000']), (e: any) => e.code === 2 && /--points: 2GH is a working set of \d+ tokens, above --max-working-set-tokens 1000/.test(e.stderr));
  await assert.rejects(kvbench(['sweep', 'capacity', '--systems', 'pcie', 'c2c', ...MODEL, '--pcie_gpu_kv_max_tokens', '8192']), (e: any) => e.code === 2 && /--c2c_gpu_kv_max_tokens: c2c's GPU pool cannot hold one request \(4176 tokens with output\); give it at least 4224/.test(e.stderr));
  await assert.rejects(kvbench(['sweep', 'capacity', ...MODEL, '--points', 'lots']), (e: any) => e.code === 2 && /--points: 'lots'/.test(e.stderr));
  await assert.rejects(kvbench(['sweep', 'offload', '--systems', 'pcie', ...MODEL, '--lengths', '100000', '--pcie_gpu_kv_max_tokens', '8192']), (e: any) => e.code === 2 && /--lengths: 100000/.test(e.stderr));
});
