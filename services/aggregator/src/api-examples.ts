import { EXAMPLE_TELEMETRY_POINT, EXAMPLE_TELEMETRY_SUMMARY, PERCENTILE_METHOD } from '@kvbench/common';
/**
 * Examples of the aggregator's responses, shown by Swagger UI (attached with `.meta({ examples })`
 * in api-schemas.ts). Shaped like a small simulated run of the workload-api's example workload.
 */

const RUN_ID = 'run-mfz1k2a0-3f9c2b7d1e';
const WORKLOAD_ID = 'wl-ad7674fd8a591885';
const T = '2026-12-06T18:00:00.000Z';
const T_DONE = '2026-12-06T18:00:04.000Z';

export const EXAMPLE_RUN_SUMMARY = {
  run_id: RUN_ID,
  system_label: 'pcie',
  workload_id: WORKLOAD_ID,
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  status: 'completed',
  attempt_count: 1,
  current_attempt: 1,
  result_attempt: 1,
  expected_samples: 6,
  received_samples: 6,
  created_at: T,
  updated_at: T_DONE,
  completed_at: T_DONE,
};

export const EXAMPLE_AGGREGATE = {
  throughput_req_per_s: 3.1,
  ttft_p50_s: 0.041,
  ttft_p95_s: 0.118,
  ttft_p99_s: 0.121,
  latency_p50_s: 0.19,
  latency_p95_s: 0.27,
  latency_p99_s: 0.28,
};

export const EXAMPLE_LOG_METRICS = {
  cache_hit_rate: 0.5,
  reused_blocks: 48,
  offloaded_blocks: 0,
  observed_offload_bandwidth_gbps: null,
  sources: { cache_hit_rate: 'simulator block manager', reused_blocks: 'simulator block manager', offloaded_blocks: 'simulator block manager' },
  null_reasons: { observed_offload_bandwidth_gbps: 'nothing was offloaded' },
};

export const EXAMPLE_RUN_META = {
  run_id: RUN_ID,
  attempt: 1,
  system_label: 'pcie',
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  workload_id: WORKLOAD_ID,
  simulated: true,
  percentile_method: PERCENTILE_METHOD,
};

/** The telemetry examples are written once, beside their schemas in @kvbench/common. */
export const EXAMPLE_RUN_TELEMETRY = { run_id: RUN_ID, attempt: 1, summary: EXAMPLE_TELEMETRY_SUMMARY, points: [EXAMPLE_TELEMETRY_POINT] };

export const EXAMPLE_SAMPLE = {
  request_id: 'c1024-b0-r0',
  batch_index: 0,
  index_in_batch: 0,
  prompt_id: 'c1024-p0',
  context_tokens: 1024,
  phase: 'cold',
  scheduled_at_s: 0,
  ttft_s: 0.118,
  latency_s: 0.27,
  itl_s: [0.01, 0.01],
  prompt_tokens_client: 1024,
  prompt_tokens_server: 1024,
  completion_tokens_client: 16,
  completion_tokens_server: 16,
  cached_tokens: 0,
  ok: true,
  error: null,
  server: null,
};

export const EXAMPLE_RUN_DETAIL = {
  ...EXAMPLE_RUN_SUMMARY,
  attempts: [
    {
      attempt: 1,
      status: 'completed',
      in_results: true,
      expected_samples: 6,
      sample_count: 6,
      received_samples: 6,
      accepted_at: T,
      started_at: T,
      completed_at: T_DONE,
      failed_at: null,
      cancelled_at: null,
      error: null,
      log_tail: null,
    },
  ],
  job: {
    schema: 'kvbench.job',
    version: 1,
    run_id: RUN_ID,
    workload_id: WORKLOAD_ID,
    system_label: 'pcie',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    engine: { kind: 'sim', options: {} },
    config_module: 'config_pcie',
    overrides: { gpu_kv_max_tokens: 49152, host_cache_gb: 16 },
    max_batch_size: 8,
    max_seq_len: 32768,
    output_tokens: 16,
    temperature: 0,
    top_p: 1,
    notes: '',
    submitted_at: T,
  },
  run_meta: EXAMPLE_RUN_META,
  log_metrics: EXAMPLE_LOG_METRICS,
  aggregate: EXAMPLE_AGGREGATE,
};

export const EXAMPLE_RESULTS = {
  runs: { pcie: [{ aggregate: EXAMPLE_AGGREGATE, log_metrics: EXAMPLE_LOG_METRICS, run_meta: EXAMPLE_RUN_META, samples: [EXAMPLE_SAMPLE] }] },
};

export const EXAMPLE_HEALTH = { status: 'ok', schema_version: 5, ingest: { running: true, committed_events: 42, rejected_samples: 0, event_signing: 'on', rejected_unsigned: 0, rejected_bad_signature: 0, storage_error: null } };
