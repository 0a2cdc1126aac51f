import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError, parseResultsFile } from '@kvbench/common';

const originalSample = { batch_index: 0, request_index_in_batch: 0, ttft_seconds: 1.5, total_latency_seconds: 1.5, context_tokens: 512, prompt_chars: 900 };
const original = (over: Record<string, unknown> = {}) => ({
  aggregate: { wall_time_seconds: 1.5, num_requests: 1, throughput_req_per_s: 0.66 },
  samples: [originalSample],
  log_metrics: { cache_hit_rate: null, reused_blocks: null, offloaded_blocks: null, observed_offload_bandwidth_gbps: null },
  run_meta: { system_label: 'pcie', notes: '' },
  ...over,
});

test("a results file holds kvbench's runs and the original tool's, each read by its own schema", () => {
  const file = parseResultsFile({ runs: { pcie: [original(), original({ log_metrics: null })], c2c: [] } }, 'results file r.json');
  assert.deepEqual(file.runs.pcie!.map((r) => r.origin), ['original-tool', 'original-tool']);
  assert.deepEqual(file.runs.c2c, []);
});

test('a run that is neither is named by its place, against the schema it looks closest to', () => {
  const refuse = (doc: unknown, message: RegExp, field: string) =>
    assert.throws(() => parseResultsFile(doc, 'results file r.json'), (e: unknown) => e instanceof ValidationError && message.test(e.message) && e.field === field);
  refuse({ runs: { pcie: [original({ samples: [{ ...originalSample, ttft_seconds: 'slow' }] })] } },
    /^invalid results file r\.json: runs\.pcie\.0 \(a run of the original tool\): samples\.0\.ttft_seconds/, 'runs.pcie.0.samples.0.ttft_seconds');
  const na = { throughput_req_per_s: null, ttft_p50_s: null, ttft_p95_s: null, ttft_p99_s: null, latency_p50_s: null, latency_p95_s: null, latency_p99_s: null };
  const lm = { cache_hit_rate: null, reused_blocks: null, offloaded_blocks: null, observed_offload_bandwidth_gbps: null, sources: {}, null_reasons: {} };
  refuse({ runs: { c2c: [{ aggregate: na, log_metrics: lm, samples: [{ batch_index: 0, index_in_batch: 0 }], run_meta: {} }] } },
    /runs\.c2c\.0: samples\.0\.request_id/, 'runs.c2c.0.samples.0.request_id');
  refuse({ schema: 'kvbench.workload', batches: [] }, /not a results document: "runs" is missing/, 'runs');
  refuse({ runs: { pcie: {} } }, /runs\.pcie is not a list of runs/, 'runs.pcie');
  refuse([], /not a results document/, '(root)');
});
