// `kvbench bench` in-process (no NATS): two labels merged into one results file,
// earlier runs kept — the original single-machine workflow of COMMANDS.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ResultsDocument, TELEMETRY_COLUMNS } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const kvbench = (args: string[]) => run(process.execPath, [MAIN, ...args], { timeout: 180_000 });

test('bench twice with two labels merges both into one file, earlier runs kept', { timeout: 400_000 }, async () => {
  const dir = await tempDir('kvbench-bench-');
  try {
    const wl = join(dir.path, 'workload.json');
    const out = join(dir.path, 'results.json');
    await kvbench(['workload', 'generate', '--contexts', '512', '--batches-per-context', '2', '--batch-sizes', '2',
      '--prompt-pool-size', '2', '--reuse-start-batch', '1', '--seed', '3', '--out', wl]);
    // A pre-existing file with a foreign key must survive the merge.
    await writeFile(out, JSON.stringify({ runs: {}, note: 'kept' }));
    const common = ['--model', 'meta-llama/Llama-3.1-8B-Instruct', '--workload_json', wl, '--output_json', out,
      '--max_batch_size', '4', '--max_seq_len', '4096', '--temperature', '0.0', '--top_p', '1.0', '--time_scale', '0.2'];
    await kvbench(['bench', ...common, '--config_module', 'config_pcie', '--system_label', 'pcie', '--notes', 'first',
      '--pcie_gpu_kv_max_tokens', '2048', '--pcie_host_cache_gb', '1']);
    await kvbench(['benchmark_kv_offload.py', ...common, '--config_module', 'config_c2c', '--system_label', 'c2c',
      '--c2c_gpu_kv_max_tokens', '2048', '--c2c_host_cache_gb', '1']);
    await kvbench(['bench', ...common, '--config_module', 'config_pcie', '--system_label', 'pcie', '--notes', 'second',
      '--pcie_gpu_kv_max_tokens', '2048']);

    const raw = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(raw.note, 'kept');
    const doc = ResultsDocument.parse(raw);
    assert.equal(doc.runs.pcie?.length, 2, 'both pcie runs kept');
    assert.equal(doc.runs.c2c?.length, 1);
    assert.deepEqual(doc.runs.pcie!.map((r) => (r.run_meta as { notes?: string }).notes), ['first', 'second']);
    for (const r of [...doc.runs.pcie!, ...doc.runs.c2c!]) {
      assert.equal(r.samples.length, 4);
      assert.ok(r.aggregate.ttft_p50_s! > 0 && r.aggregate.ttft_p50_s! < r.aggregate.latency_p50_s!);
      assert.equal((r.run_meta as { simulated?: boolean }).simulated, true);
    }
    // The --pcie_* override reached the engine config; the preset filled the rest.
    const kv = (doc.runs.pcie![0]!.run_meta as { kv_config?: Record<string, unknown> }).kv_config;
    assert.equal(kv?.gpu_kv_max_tokens, 2048);
    assert.equal(kv?.host_cache_gb, 1);
    assert.equal(kv?.tokens_per_block, 64);

    // Each run's telemetry series is also written as CSV beside the results file (issue 23); the last
    // pcie run overwrote the first's file, so it holds the second run's series, row for row.
    const csv = (await readFile(join(dir.path, 'results.pcie.telemetry.csv'), 'utf8')).trimEnd().split('\n');
    assert.equal(csv[0], TELEMETRY_COLUMNS.join(','));
    const series = (raw.runs.pcie[1] as { telemetry_series: Record<string, number | null>[] }).telemetry_series;
    assert.ok(series.length > 0, 'the simulator models a link series');
    assert.equal(csv.length - 1, series.length);
    const col = TELEMETRY_COLUMNS.indexOf('pcie_rx_bytes');
    const csvRx = csv.slice(1).reduce((a, line) => a + Number(line.split(',')[col] || 0), 0);
    assert.equal(csvRx, series.reduce((a, p) => a + (p.pcie_rx_bytes ?? 0), 0));
  } finally {
    await dir.cleanup();
  }
});
