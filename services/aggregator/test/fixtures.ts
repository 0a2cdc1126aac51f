import { PERCENTILE_METHOD, type RunEvent, type Sample } from '@kvbench/common';

/**
 * A run's events with hand-checkable numbers: sample i (0-based) is scheduled at
 * i * 0.5 s, has TTFT (i + 1) * 0.1 s and latency TTFT + 1 s.
 */
export interface RunFixture {
  runId: string;
  label: string;
  attempt: number;
  workloadId: string;
  accepted: RunEvent;
  started: RunEvent;
  samples: RunEvent[];
  engineStats: RunEvent;
  completed: RunEvent;
  /** All of them in publish order. */
  all: RunEvent[];
}

export function sampleOf(i: number, phase: 'cold' | 'reuse' = i % 2 === 0 ? 'cold' : 'reuse'): Sample {
  const ttft = (i + 1) * 0.1;
  return {
    request_id: `req-${String(i).padStart(5, '0')}`,
    batch_index: Math.floor(i / 4),
    index_in_batch: i % 4,
    prompt_id: `p${i % 3}`,
    context_tokens: 1024,
    phase,
    scheduled_at_s: i * 0.5,
    ttft_s: ttft,
    latency_s: ttft + 1,
    itl_s: [0.01, 0.02],
    prompt_tokens_client: 1024,
    prompt_tokens_server: 1024,
    completion_tokens_client: 16,
    completion_tokens_server: 16,
    cached_tokens: phase === 'reuse' ? 960 : 0,
    ok: true,
    error: null,
    server: null,
  };
}

/** Each fixture made later happens later (a minute apart), as runs submitted one after another do. */
let fixturesMade = 0;

export function runFixture(opts: { runId: string; label?: string; attempt?: number; samples: number; workloadId?: string }): RunFixture {
  const start = Date.UTC(2026, 0, 1) + fixturesMade++ * 60_000;
  const time = (s: number) => new Date(start + s * 1000).toISOString();
  const label = opts.label ?? 'pcie';
  const attempt = opts.attempt ?? 1;
  const workloadId = opts.workloadId ?? 'wl-test';
  const env = (at: string) => ({
    schema: 'kvbench.event' as const,
    version: 1 as const,
    run_id: opts.runId,
    attempt,
    system_label: label,
    at,
  });
  const runMeta = {
    run_id: opts.runId,
    attempt,
    system_label: label,
    model: 'test-model',
    workload_id: workloadId,
    simulated: true,
    percentile_method: PERCENTILE_METHOD,
    engine: 'sim',
  };
  const logMetrics = {
    cache_hit_rate: 0.5,
    reused_blocks: 10,
    offloaded_blocks: 4,
    observed_offload_bandwidth_gbps: 12.5,
    sources: { cache_hit_rate: 'kvCacheStats' },
    null_reasons: {},
  };
  const accepted: RunEvent = {
    ...env(time(0)),
    type: 'accepted',
    job: {
      schema: 'kvbench.job',
      version: 1,
      run_id: opts.runId,
      workload_id: workloadId,
      system_label: label,
      model: 'test-model',
      engine: { kind: 'sim', options: {} },
      config_module: 'config_pcie',
      overrides: {},
      max_batch_size: 4,
      max_seq_len: 4096,
      output_tokens: 16,
      temperature: 0,
      top_p: 1,
      notes: '',
      submitted_at: time(0),
    },
  };
  const started: RunEvent = { ...env(time(1)), type: 'started', expected_samples: opts.samples, run_meta: runMeta };
  const samples: RunEvent[] = Array.from({ length: opts.samples }, (_, i) => ({
    ...env(time(2)),
    type: 'sample' as const,
    sample: sampleOf(i),
  }));
  const engineStats: RunEvent = { ...env(time(3)), type: 'engine_stats', final: true, log_metrics: logMetrics };
  const completed: RunEvent = {
    ...env(time(4)),
    type: 'completed',
    sample_count: opts.samples,
    window_s: opts.samples * 0.5,
    run_meta: runMeta,
    log_metrics: logMetrics,
  };
  return {
    runId: opts.runId,
    label,
    attempt,
    workloadId,
    accepted,
    started,
    samples,
    engineStats,
    completed,
    all: [accepted, started, ...samples, engineStats, completed],
  };
}
