// The original benchmark_kv_offload.py's runs read as kvbench runs: marked, without cache
// figures, and paired with a kvbench run of the same workload by (batch index, index in batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResultsFile, type OriginalToolRun } from '@kvbench/common';
import { compareRuns, pairOriginalToolRuns, resultsDocumentOf, selectRuns } from '@kvbench/report';
import { run, sample } from './fixtures.js';

/** Shaped as the original writes: every request of a batch carries the batch's wall time. */
function originalRun(batches: { walls: number; size: number; context: number }[]): OriginalToolRun {
  const samples = batches.flatMap((b, bi) =>
    Array.from({ length: b.size }, (_, i) => ({
      batch_index: bi,
      request_index_in_batch: i,
      ttft_seconds: b.walls,
      total_latency_seconds: b.walls,
      context_tokens: b.context,
      prompt_chars: 1000,
    })),
  );
  return {
    aggregate: { wall_time_seconds: 3, num_requests: samples.length, throughput_req_per_s: samples.length / 3 },
    samples,
    log_metrics: { cache_hit_rate: null, reused_blocks: null, offloaded_blocks: null, observed_offload_bandwidth_gbps: null },
    run_meta: { system_label: 'pcie', model: 'm', timestamp_utc: '2025-11-03T14:02:11Z' },
  };
}

/** A kvbench run of 2 batches × 2 requests at 512 tokens; the second batch repeats the prompts. */
const kvbenchRun = (ttft: number, context = 512) =>
  run('c2c', 'r-c2c', [0, 1].flatMap((b) => [0, 1].map((i) => sample({
    request_id: `ctx${context}-b${b}-r${i}`, batch_index: b, index_in_batch: i, context_tokens: context,
    phase: b === 0 ? 'cold' : 'reuse', ttft_s: ttft * (1 + i / 10),
  }))));

const doc = (pcie: unknown[], c2c: unknown[]) => resultsDocumentOf(parseResultsFile({ runs: { pcie, c2c } }, 'test document'));

test("the original's runs are read from a results file beside kvbench's, marked and without cache figures", () => {
  const d = doc([originalRun([{ walls: 2, size: 2, context: 512 }, { walls: 1, size: 2, context: 512 }])], [kvbenchRun(0.2)]);
  const view = d.runs.pcie![0]!;
  assert.equal(view.samples.length, 4);
  // Batch wall time as TTFT and latency; batches one after the other.
  assert.deepEqual(view.samples.map((s) => [s.ttft_s, s.latency_s, s.scheduled_at_s]), [[2, 2, 0], [2, 2, 0], [1, 1, 2], [1, 1, 2]]);
  assert.equal(view.log_metrics.null_reasons.cache_hit_rate, 'not measured by the original tool');
  assert.equal(view.log_metrics.null_reasons.observed_offload_bandwidth_gbps, 'not measured by the original tool');
  assert.match(String((view.run_meta as Record<string, unknown>).results_from), /benchmark_kv_offload\.py/);
  // The kvbench run is read as it is.
  assert.equal(d.runs.c2c![0]!.samples[0]!.request_id, 'ctx512-b0-r0');
});

test('paired with a kvbench run of the same shape by (batch index, index in batch), taking its phases', () => {
  const d = doc([originalRun([{ walls: 2, size: 2, context: 512 }, { walls: 1, size: 2, context: 512 }])], [kvbenchRun(0.2)]);
  const runs = pairOriginalToolRuns(selectRuns(d));
  const pcie = runs[0]!;
  assert.deepEqual(pcie.samples.map((s) => s.request_id), ['ctx512-b0-r0', 'ctx512-b0-r1', 'ctx512-b1-r0', 'ctx512-b1-r1']);
  assert.deepEqual(pcie.samples.map((s) => s.phase), ['cold', 'cold', 'reuse', 'reuse']);
  const c = compareRuns(runs, { resamples: 1000 });
  const all = c.rows.find((r) => r.phase === 'all')!;
  assert.equal(all.vs_baseline[0]!.paired, 4);
  assert.deepEqual(all.vs_baseline[0]!.unpaired, { baseline_only: 0, system_only: 0, failed: 0 });
  // Rows per phase exist for the original's requests too.
  assert.equal(c.rows.find((r) => r.phase === 'reuse')!.systems.pcie!.n, 2);
  assert.equal(all.systems.pcie!.cache_hit_rate, null);
  const note = c.notes.find((n) => n.startsWith('pcie is from the original tool'));
  assert.ok(note, c.notes.join('\n'));
  assert.match(note, /wall time of the whole batch/);
  assert.match(note, /paired with c2c r-c2c by \(batch index, index in batch\)/);
  assert.ok(!c.notes.some((n) => n.includes('different workloads')), c.notes.join('\n'));
});

test('not paired when the positions or context sizes differ: the requests are not the same, and the note says why', () => {
  for (const [batches, why] of [
    [[{ walls: 2, size: 2, context: 1024 }, { walls: 1, size: 2, context: 1024 }], /batch 0 has 512-token contexts, the original's 1024/],
    [[{ walls: 2, size: 3, context: 512 }, { walls: 1, size: 1, context: 512 }], /no request at batch 0, index 2/],
    [[{ walls: 2, size: 2, context: 512 }], /4 requests, the original's run has 2/],
  ] as const) {
    const runs = pairOriginalToolRuns(selectRuns(doc([originalRun([...batches])], [kvbenchRun(0.2)])));
    const c = compareRuns(runs, { resamples: 1000 });
    assert.equal(c.rows.find((r) => r.phase === 'all')!.vs_baseline[0]!.paired, 0);
    const note = c.notes.find((n) => n.startsWith('pcie is from the original tool'))!;
    assert.match(note, why);
    assert.match(note, /records no cold\/reuse phase, so its requests count in the all-requests row only/);
  }
});

test('two runs of the original tool pair with each other by position', () => {
  const orig = originalRun([{ walls: 2, size: 2, context: 512 }]);
  const d = resultsDocumentOf(parseResultsFile({ runs: { pcie: [orig], c2c: [{ ...orig, run_meta: { system_label: 'c2c' } }] } }, 'test'));
  const c = compareRuns(pairOriginalToolRuns(selectRuns(d)), { resamples: 1000 });
  assert.equal(c.rows.find((r) => r.phase === 'all')!.vs_baseline[0]!.paired, 2);
});

test('the default selection takes the original run of a label that has none of the workload', () => {
  // Baseline c2c (kvbench, workload wl-1): pcie has only the original's run, which records no workload.
  const d = doc([originalRun([{ walls: 2, size: 2, context: 512 }, { walls: 1, size: 2, context: 512 }])], [kvbenchRun(0.2)]);
  const picked = selectRuns(d, { baseline: 'c2c' });
  assert.equal(picked.length, 2);
});
