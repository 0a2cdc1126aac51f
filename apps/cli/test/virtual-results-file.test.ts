/**
 * Same seed, virtual clock, twice: identical results files (issue 20). Driven as a user does:
 * `kvbench workload generate`, then `kvbench bench --clock virtual` for pcie and c2c into one results
 * file, all of it twice into two directories. The two results files are compared whole, byte for byte.
 * The executions stay told apart in each file's provenance file (provenance.ts): one entry per
 * execution, with its own run id and dates, keyed by the result's id that the results file carries.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResultsFile } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';

const MAIN = new URL('../src/main.js', import.meta.url).pathname;
const kvbench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 240_000 });

interface Provenance {
  schema: string;
  executions: Array<{ result_id: string; system_label: string; run_id: string; started_at: string; engine: { url?: string } }>;
}

test('same seed, virtual clock, twice: the results files are identical byte for byte; the provenance files tell the executions apart', async () => {
  const dir = await tempDir('kvbench-virtual-results-');
  try {
    const wl = join(dir.path, 'wl.json');
    const g = kvbench('workload', 'generate', '--contexts', '512', '1024', '--batches-per-context', '3', '--batch-sizes', '2', '4', '--prompt-pool-size', '3', '--reuse-start-batch', '1', '--seed', '11', '--out', wl);
    assert.equal(g.status, 0, g.stderr);
    const execute = (name: string) => {
      mkdirSync(join(dir.path, name));
      const out = join(dir.path, name, 'benchmark_results.json');
      for (const label of ['pcie', 'c2c']) {
        const r = kvbench(
          'bench', '--model', 'meta-llama/Llama-3.1-8B-Instruct', '--config_module', `config_${label}`, '--system_label', label,
          '--workload_json', wl, '--output_json', out, '--max_batch_size', '4', '--max_seq_len', '4096', '--clock', 'virtual',
          `--${label}_gpu_kv_max_tokens`, '2048', `--${label}_host_cache_gb`, '1', '--engine_option', 'seed=5',
        );
        assert.equal(r.status, 0, `${name} ${label}: ${r.stderr.slice(-3000)}`);
      }
      const provenance = JSON.parse(readFileSync(join(dir.path, name, 'benchmark_results.provenance.json'), 'utf8')) as Provenance;
      return { text: readFileSync(out, 'utf8'), provenance };
    };
    const a = execute('a');
    const b = execute('b');
    assert.equal(a.text, b.text, 'the same seed on the virtual clock gives the same results file, byte for byte');

    // The file is an ordinary results document with both systems' runs, labelled virtual.
    parseResultsFile(JSON.parse(a.text), 'results');
    const raw = JSON.parse(a.text) as { runs: Record<string, Array<{ run_meta: Record<string, unknown>; samples: unknown[] }>> };
    const runs = Object.entries(raw.runs).map(([label, list]) => ({ label, run: list[0]! }));
    assert.deepEqual(runs.map((r) => r.label).sort(), ['c2c', 'pcie']);
    for (const { run } of runs) {
      assert.equal(run.run_meta['clock'], 'virtual');
      assert.match(String(run.run_meta['run_id']), /^v-[0-9a-f]{16}$/);
      assert.ok(run.samples.length > 0);
      for (const k of ['started_at', 'ended_at', 'environment']) assert.equal(k in run.run_meta, false, `run_meta.${k} is provenance`);
    }
    // Each execution has its own provenance entry: the same result ids, different run ids and engines.
    for (const p of [a.provenance, b.provenance]) {
      assert.equal(p.schema, 'kvbench.provenance');
      assert.deepEqual(p.executions.map((e) => e.system_label), ['pcie', 'c2c']);
      assert.deepEqual(p.executions.map((e) => e.result_id), ['pcie', 'c2c'].map((l) => runs.find((r) => r.label === l)!.run.run_meta['run_id']));
    }
    for (let i = 0; i < 2; i++) {
      const [x, y] = [a.provenance.executions[i]!, b.provenance.executions[i]!];
      assert.notEqual(x.run_id, y.run_id, 'two executions, two run ids');
      assert.match(x.run_id, /^r-/);
      assert.ok(x.started_at && x.engine.url, 'dates and the engine URL are kept');
    }
  } finally {
    await dir.cleanup();
  }
});
