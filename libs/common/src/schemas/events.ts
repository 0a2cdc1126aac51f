import { z } from 'zod';
import { RequestTokens, TtftBreakdown } from './breakdown.js';
import { Job, RunId, SystemLabel } from './job.js';
import { ScenarioTags } from './scenario.js';
import { TelemetryPoint, TelemetrySummary } from './telemetry.js';

const nn = z.number().nullable();

/**
 * Cache metrics over a run's measured window, from the engine's statistics.
 * A null value is allowed only with a reason in `null_reasons`; every non-null
 * value names where it came from in `sources` (e.g. "kvCacheIterationStats").
 */
export const LogMetrics = z
  .object({
    cache_hit_rate: nn,
    reused_blocks: nn,
    offloaded_blocks: nn,
    observed_offload_bandwidth_gbps: nn,
    onboarded_blocks: nn.optional(),
    offloaded_bytes: nn.optional(),
    onboarded_bytes: nn.optional(),
    observed_onboard_bandwidth_gbps: nn.optional(),
    sources: z.record(z.string(), z.string()).default({}),
    null_reasons: z.record(z.string(), z.string()).default({}),
  })
  .loose();
export type LogMetrics = z.infer<typeof LogMetrics>;

/** Per-request figures the engine itself reported (/perf_metrics), joined to the sample. */
export const ServerRequestMetrics = z
  .object({
    queue_s: nn.optional(),
    first_scheduled_s: nn.optional(),
    server_ttft_s: nn.optional(),
    server_latency_s: nn.optional(),
    reused_blocks: nn.optional(),
    missed_blocks: nn.optional(),
    new_allocated_blocks: nn.optional(),
    total_allocated_blocks: nn.optional(),
  })
  .loose();

/** One request's measurement. Durations are in (modelled, when time-scaled) seconds on the agent's monotonic clock. */
export const Sample = z
  .object({
    request_id: z.string().min(1),
    batch_index: z.number().int().nonnegative(),
    index_in_batch: z.number().int().nonnegative(),
    prompt_id: z.string().min(1),
    context_tokens: z.number().int().positive(),
    phase: z.enum(['cold', 'reuse']),
    /** When the request was scheduled, seconds since the run's start (agent monotonic clock). */
    scheduled_at_s: z.number().nonnegative(),
    /** Scheduled → first streamed chunk carrying generated text. Null when the request failed before it. */
    ttft_s: nn,
    /** Scheduled → end of stream. */
    latency_s: nn,
    /** Gaps between consecutive text-carrying chunks. */
    itl_s: z.array(z.number()).default([]),
    prompt_tokens_client: z.number().int().nonnegative(),
    prompt_tokens_server: z.number().int().nonnegative().nullable(),
    completion_tokens_client: z.number().int().nonnegative(),
    completion_tokens_server: z.number().int().nonnegative().nullable(),
    cached_tokens: z.number().int().nonnegative().nullable(),
    ok: z.boolean(),
    error: z.string().nullable().default(null),
    server: ServerRequestMetrics.nullable().default(null),
    /**
     * Scenario workloads only: the request's place in its scenario (kind, session and turn,
     * document and round, trace line, sweep id and point), so reports can group by it; plus
     * `release`, what released it. Absent for the original batches.
     */
    scenario: ScenarioTags.extend({ release: z.enum(['time', 'completion']).optional() }).optional(),
    // Added with the TTFT breakdown (optional: samples stored before it have neither).
    /** Where this request's TTFT went (breakdown.ts); null parts carry their reason. */
    breakdown: TtftBreakdown.nullable().optional(),
    /** Where its prompt tokens came from: GPU cache, host cache, recomputed. */
    tokens: RequestTokens.nullable().optional(),
  })
  .loose();
export type Sample = z.infer<typeof Sample>;

/** Free-form but typed-where-known description of a run (original `run_meta`). */
export const RunMeta = z
  .object({
    run_id: RunId,
    attempt: z.number().int().positive(),
    system_label: SystemLabel,
    model: z.string(),
    workload_id: z.string(),
    simulated: z.boolean(),
    percentile_method: z.string(),
  })
  .loose();
export type RunMeta = z.infer<typeof RunMeta>;

const envelope = {
  schema: z.literal('kvbench.event'),
  version: z.literal(1),
  run_id: RunId,
  /** 1 for the first delivery of a job; a redelivered job restarts as attempt 2, 3, ... */
  attempt: z.number().int().positive(),
  system_label: SystemLabel,
  /** Wall-clock time of the publishing host (ISO 8601). */
  at: z.string(),
};

export const RunAcceptedEvent = z.object({ ...envelope, type: z.literal('accepted'), job: Job });
export const RunStartedEvent = z.object({
  ...envelope,
  type: z.literal('started'),
  expected_samples: z.number().int().nonnegative(),
  run_meta: RunMeta,
});
export const SampleEvent = z.object({ ...envelope, type: z.literal('sample'), sample: Sample });
export const EngineStatsEvent = z.object({
  ...envelope,
  type: z.literal('engine_stats'),
  /** true for the final figures over the whole measured window; false for a progress snapshot. */
  final: z.boolean(),
  log_metrics: LogMetrics,
});
export const RunCompletedEvent = z.object({
  ...envelope,
  type: z.literal('completed'),
  sample_count: z.number().int().nonnegative(),
  /** Length of the measured window in seconds (first scheduled → last finished). */
  window_s: z.number().nonnegative(),
  run_meta: RunMeta,
  log_metrics: LogMetrics,
});
export const RunFailedEvent = z.object({
  ...envelope,
  type: z.literal('failed'),
  error: z.string(),
  log_tail: z.array(z.string()).default([]),
  /** false when the job will be delivered again (another attempt follows). */
  final: z.boolean().default(true),
});

/**
 * The run was cancelled (POST /runs/:id/cancel): by the workload-api when it took the job off
 * its queue before any agent started it, or by the agent that aborted it. Final: no result.
 */
export const RunCancelledEvent = z.object({
  ...envelope,
  type: z.literal('cancelled'),
  /** Whether the run had started on an agent (samples already published stay with the attempt). */
  was_running: z.boolean(),
  reason: z.string().default('cancelled by request'),
});

/**
 * Link and GPU telemetry (issue 23): `points` is one chunk of the series (chunks numbered from 0,
 * each at most a few hundred points); the last event of a run has `final: true` and the summary.
 */
export const TelemetryEvent = z.object({
  ...envelope,
  type: z.literal('telemetry'),
  chunk: z.number().int().nonnegative(),
  final: z.boolean(),
  points: z.array(TelemetryPoint).max(5000),
  summary: TelemetrySummary.nullable(),
});

export const RunEvent = z.discriminatedUnion('type', [
  RunAcceptedEvent,
  RunStartedEvent,
  SampleEvent,
  EngineStatsEvent,
  RunCompletedEvent,
  RunFailedEvent,
  RunCancelledEvent,
  TelemetryEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
