/**
 * A/A: the same simulator profile and configuration under two system labels must not come out as a
 * difference. Driven as a user does: `kvbench workload generate`, `kvbench bench` twice (labels pcie
 * and c2c, both on the h200-pcie-gen5 profile and the config_pcie preset), then the comparison.
 *
 * - Virtual clock: the two runs see the same modelled times, so every paired TTFT ratio is 1 and no
 *   comparison is significant.
 * - Real time with two CPU hogs beside it (started by the test): the host may shift the times, so
 *   either no TTFT comparison is significant, or the difference is within 5% (the verdict's minimum
 *   effect), or kvbench says the runs were host-bound (run_meta.host_bound). No wall-clock assertion.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResultsFile, type RunResult } from '@kvbench/common';
import { compareRuns, resultsDocumentOf } from '@kvbench/report';
import { tempDir } from '@kvbench/testkit';

const MAIN = new URL('../src/main.js', import.meta.url).pathname;
const kvbench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 240_000 });
const MIN_EFFECT = 0.05;

async function aaRun(dir: string, clock: 'virtual' | 'real'): Promise<RunResult[]> {
  const wl = join(dir, `wl-${clock}.json`);
  const out = join(dir, `results-${clock}.json`);
  const g = kvbench('workload', 'generate', '--contexts', '1024', '2048', '--batches-per-context', '3', '--batch-sizes', '2', '4', '--prompt-pool-size', '3', '--reuse-start-batch', '1', '--seed', '3', '--out', wl);
  assert.equal(g.status, 0, g.stderr);
  for (const label of ['pcie', 'c2c']) {
    const r = kvbench(
      'bench', '--model', 'meta-llama/Llama-3.1-8B-Instruct', '--system_label', label, '--config_module', 'config_pcie',
      '--profile', 'h200-pcie-gen5', '--clock', clock, '--workload_json', wl, '--output_json', out,
      '--gpu_kv_max_tokens', '8192', '--max_seq_len', '4096', '--max_batch_size', '4', '--output_tokens', '8',
      '--engine_option', 'seed=9',
    );
    assert.equal(r.status, 0, `${label}: ${r.stderr.slice(-3000)}`);
  }
  const doc = resultsDocumentOf(parseResultsFile(JSON.parse(readFileSync(out, 'utf8')), out));
  return Object.values(doc.runs).flat();
}

function ttftComparisons(runs: RunResult[]) {
  const c = compareRuns(runs, { resamples: 1000, seed: 1 });
  return c.rows.flatMap((row) => row.vs_baseline.flatMap((v) => v.metrics.filter((m) => m.metric === 'ttft_p50').map((m) => ({ row, m }))));
}

test('A/A on the virtual clock: the same profile under two labels is no difference', async () => {
  const dir = await tempDir();
  try {
    const runs = await aaRun(dir.path, 'virtual');
    assert.equal(runs.length, 2);
    for (const r of runs) assert.equal((r.run_meta as Record<string, unknown>)['clock'], 'virtual');
    assert.deepEqual(runs[0]!.samples.map((s) => s.ttft_s), runs[1]!.samples.map((s) => s.ttft_s), 'identical modelled TTFTs');
    const cmp = ttftComparisons(runs);
    assert.ok(cmp.length > 0);
    for (const { row, m } of cmp) {
      assert.equal(m.ratio, 1, `${row.phase}@${row.context_tokens}: ${m.verdict}`);
      assert.notEqual(m.significant, true, m.verdict);
    }
  } finally {
    await dir.cleanup();
  }
});

test('A/A in real time with two CPU hogs: no difference beyond the minimum effect, or marked host-bound', async () => {
  const dir = await tempDir();
  const hogs: ChildProcess[] = [0, 1].map(() => spawn('sh', ['-c', 'exec yes > /dev/null'], { stdio: 'ignore' }));
  try {
    const runs = await aaRun(dir.path, 'real');
    const hostBound = runs.some((r) => (r.run_meta as Record<string, unknown>)['host_bound'] === true);
    for (const r of runs) {
      const meta = r.run_meta as Record<string, unknown>;
      assert.equal(meta['clock'], 'real');
      // The lateness was measured (every sample joined its /perf_metrics entry), so host_bound is a verdict, not unknown.
      assert.equal(typeof meta['host_bound'], 'boolean', JSON.stringify(meta['host_lateness']));
      for (const s of r.samples) for (const [k, v] of Object.entries(s.breakdown ?? {})) if (typeof v === 'number') assert.ok(v >= 0, `${s.request_id} ${k} = ${v}`);
    }
    for (const { row, m } of ttftComparisons(runs)) {
      const small = m.ratio !== null && Math.abs(m.ratio - 1) <= MIN_EFFECT;
      assert.ok(m.significant !== true || small || hostBound, `${row.phase}@${row.context_tokens}: ${m.verdict} (host_bound: ${hostBound}; lateness ${JSON.stringify(runs.map((r) => (r.run_meta as Record<string, unknown>)['host_lateness']))})`);
    }
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
    await dir.cleanup();
  }
});
