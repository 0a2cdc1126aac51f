import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ResultsDocument, RunResult, Sample } from '@kvbench/common';
import { successfulSample, tempDir } from '@kvbench/testkit';

const MAIN = new URL('../src/main.js', import.meta.url).pathname;

function runOf(label: string, runId: string, workload: string, ttft: (i: number) => number): RunResult {
  const samples: Sample[] = Array.from({ length: 40 }, (_, i) =>
    successfulSample({
      request_id: `r${i}`,
      batch_index: i,
      prompt_id: `p${i % 10}`,
      context_tokens: i % 2 ? 16384 : 4096,
      phase: i < 10 ? 'cold' : 'reuse',
      scheduled_at_s: i * 0.1,
      ttft_s: ttft(i),
      latency_s: ttft(i) + 0.2,
      prompt_tokens_client: 4096,
      prompt_tokens_server: 4096,
    }),
  );
  const na = { throughput_req_per_s: null, ttft_p50_s: null, ttft_p95_s: null, ttft_p99_s: null, latency_p50_s: null, latency_p95_s: null, latency_p99_s: null };
  return {
    aggregate: na,
    log_metrics: { cache_hit_rate: 0.5, reused_blocks: 1, offloaded_blocks: 2, observed_offload_bandwidth_gbps: null, sources: {}, null_reasons: { observed_offload_bandwidth_gbps: 'engine has no offload statistics' } },
    samples,
    run_meta: { run_id: runId, attempt: 1, system_label: label, model: 'm', workload_id: workload, simulated: true, percentile_method: 'linear' },
  };
}

const kvbench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('kvbench report prints the comparison of the latest runs and writes the HTML page', async () => {
  const dir = await tempDir();
  try {
    const jitter = (i: number) => 0.1 + ((i * 37) % 11) / 100;
    const doc: ResultsDocument = {
      runs: {
        pcie: [runOf('pcie', 'p-old', 'w1', () => 9), runOf('pcie', 'p-new', 'w1', jitter)],
        c2c: [runOf('c2c', 'c-new', 'w1', (i) => jitter(i) / 2)],
      },
    };
    const file = join(dir.path, 'benchmark_results.json');
    const html = join(dir.path, 'report.html');
    writeFileSync(file, JSON.stringify(doc));
    const r = kvbench('report', file, '--html', html);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Runs: PCIe=p-new, C2C=c-new/);
    assert.match(r.stdout, /C2C TTFT p50 2\.0× lower than PCIe on reuse at 4K tokens, 95% CI 2\.0–2\.0×/);
    assert.match(r.stdout, /- \(engine has no offload statistics\)/);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /SIMULATED/);

    const named = kvbench('report', file, '--runs', 'p-old,c-new', '--baseline', 'c2c');
    assert.equal(named.status, 0, named.stderr);
    assert.match(named.stdout, /Baseline: C2C\.\s+Runs: PCIe=p-old, C2C=c-new/);
    // p-old took 9 s everywhere: PCIe is far slower than the C2C baseline.
    assert.match(named.stdout, /PCIe TTFT p50 \d+× higher than C2C across all requests/);

    // Goodput at the user's SLOs: c2c's TTFTs are half of pcie's, 0.10–0.20 s, so under 100 ms pcie meets none.
    const slo = kvbench('report', file, '--slo', 'ttft_ms=99,latency_ms=5000', '--html', html);
    assert.equal(slo.status, 0, slo.stderr);
    assert.match(slo.stdout, /Goodput at ttft_ms=99,latency_ms=5000/);
    assert.match(slo.stdout, /PCIe\s+0\/40\s+0\.0%/);
    assert.match(readFileSync(html, 'utf8'), /data-chart="goodput"/);
    const badSlo = kvbench('report', file, '--slo', 'ttft=fast');
    assert.equal(badSlo.status, 2, 'a usage error');
    assert.match(badSlo.stderr, /slo/);

    assert.equal(kvbench('report', join(dir.path, 'missing.json')).status, 1);
    const bad = kvbench('report', file, '--runs', 'nope');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /run 'nope' not found/);
  } finally {
    await dir.cleanup();
  }
});
