/** kvbench report --sweep: a sweep's runs from a results file, as a table and an HTML page. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ResultsDocument, RunResult, Sample } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';

const MAIN = new URL('../src/main.js', import.meta.url).pathname;
const kvbench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

/** One offload-sweep run as `kvbench sweep offload` records it: a replay step, the engine's counters. */
function offloadRun(label: string, host: number, replayTtft: number, bw: number | null): RunResult {
  const s = (id: string, step: string, ttft: number): Sample => ({
    request_id: id, batch_index: 0, index_in_batch: 0, prompt_id: id, context_tokens: 4096, phase: 'cold', scheduled_at_s: 0, ttft_s: ttft, latency_s: ttft + 0.1,
    itl_s: [], prompt_tokens_client: 4096, prompt_tokens_server: 4096, completion_tokens_client: 1, completion_tokens_server: 1, cached_tokens: 0, ok: true, error: null, server: null,
    scenario: { kind: 'offload', step },
  } as Sample);
  return {
    aggregate: { throughput_req_per_s: null, ttft_p50_s: null, ttft_p95_s: null, ttft_p99_s: null, latency_p50_s: null, latency_p95_s: null, latency_p99_s: null },
    log_metrics: { cache_hit_rate: null, reused_blocks: host ? 64 : 0, offloaded_blocks: 64, observed_offload_bandwidth_gbps: null, onboarded_blocks: host ? 64 : 0, observed_onboard_bandwidth_gbps: bw, sources: {}, null_reasons: {} },
    samples: [s('cold', 'cold', 0.1), s('replay', 'replay', replayTtft)],
    run_meta: {
      run_id: `${label}-${host}`, attempt: 1, system_label: label, model: 'm', workload_id: 'w-off', simulated: true, percentile_method: 'linear',
      kv_config: { gpu_kv_max_tokens: 8192, tokens_per_block: 64, host_cache_gb: host, enable_reuse: true },
      kv_pools: { gpu_blocks: 128, host_blocks: host ? 1024 : 0, tokens_per_block: 64, block_bytes: 8388608, source: 'engine GET /version' },
      workload: { kind: 'offload', sweep: { id: 'sw-offload-1', point: '4096' } },
    },
  };
}

test('kvbench report --sweep prints the offload sweep and writes its page', async () => {
  const dir = await tempDir();
  try {
    const doc: ResultsDocument = { runs: { pcie: [offloadRun('pcie', 32, 0.03, 25), offloadRun('pcie', 0, 0.1, null)], c2c: [offloadRun('c2c', 64, 0.012, 300), offloadRun('c2c', 0, 0.1, null)] } };
    const file = join(dir.path, 'results.json');
    const html = join(dir.path, 'sweep.html');
    writeFileSync(file, JSON.stringify(doc));
    const r = kvbench('report', file, '--sweep', 'latest', '--html', html);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Offload against recompute, sweep sw-offload-1/);
    // 64 blocks × 8 MiB over 25 GB/s = 21.5 ms; speedup 0.1 / 0.03; one replay of each (1/1), flagged as fewer than 3; C2C/PCIe 12 / 30.
    assert.match(r.stdout, /4K\s+30\.0 \(1\/1\) !\s+-\s+100 \(1\/1\)\s+21\.5\s+3\.3×.*0\.40$/m);
    assert.match(r.stdout, /PCIe 4K: 1 onboard replay\(s\): fewer than 3/);
    assert.match(readFileSync(html, 'utf8'), /data-chart="offload-ttft"/);
    assert.equal(kvbench('report', file, '--sweep', 'sw-nope').status, 1);
  } finally {
    await dir.cleanup();
  }
});
