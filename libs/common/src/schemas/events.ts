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
    cache_hit_rate: nn.describe("share of prompt KV blocks served from cache (GPU or host) over the measured window, 0-1; null with its reason in null_reasons"),
    reused_blocks: nn.describe("KV blocks reused from cache"),
    offloaded_blocks: nn.describe("KV blocks copied GPU \u2192 host"),
    observed_offload_bandwidth_gbps: nn.describe("offload bytes over offload time, in GB/s"),
    onboarded_blocks: nn.optional().describe("KV blocks copied host \u2192 GPU"),
    offloaded_bytes: nn.optional().describe("bytes copied GPU \u2192 host"),
    onboarded_bytes: nn.optional().describe("bytes copied host \u2192 GPU"),
    observed_onboard_bandwidth_gbps: nn.optional().describe("onboard bytes over onboard time, in GB/s"),
    sources: z.record(z.string(), z.string()).default({}).describe("where each non-null figure came from, by field (e.g. \"kvCacheIterationStats\")"),
    null_reasons: z.record(z.string(), z.string()).default({}).describe("why each null figure is null, by field"),
  })
  .loose();
export type LogMetrics = z.infer<typeof LogMetrics>;

/** The figures of LogMetrics: every field but `sources` and `null_reasons`, in the schema's order. */
export type LogMetricFigure = Exclude<keyof typeof LogMetrics.shape, 'sources' | 'null_reasons'>;
export const LOG_METRIC_FIGURES = Object.keys(LogMetrics.shape).filter((k) => k !== 'sources' && k !== 'null_reasons') as LogMetricFigure[];

/** Every figure as `figure(name)` gives it (null where it gives null or undefined), with these sources and reasons. */
export function logMetricsOf(figure: (name: LogMetricFigure) => number | null | undefined, sources: Record<string, string>, nullReasons: Record<string, string>): LogMetrics {
  const figures = Object.fromEntries(LOG_METRIC_FIGURES.map((k) => [k, figure(k) ?? null])) as Record<LogMetricFigure, number | null>;
  return { ...figures, sources, null_reasons: nullReasons };
}

/** Log metrics of a run whose statistics could not be read: every figure null, each with `reason`. */
export function unreadableLogMetrics(reason: string): LogMetrics {
  return logMetricsOf(() => null, {}, Object.fromEntries(LOG_METRIC_FIGURES.map((k) => [k, reason])));
}

/** Per-request figures the engine itself reported (/perf_metrics), joined to the sample. */
export const ServerRequestMetrics = z
  .object({
    queue_s: nn.optional().describe("time in the engine queue, seconds (engine clock)"),
    first_scheduled_s: nn.optional().describe("arrival \u2192 first scheduled, seconds"),
    server_ttft_s: nn.optional().describe("the engine's own TTFT, seconds"),
    server_latency_s: nn.optional().describe("the engine's own end-to-end latency, seconds"),
    reused_blocks: nn.optional().describe("KV blocks reused for this request"),
    missed_blocks: nn.optional().describe("KV blocks not found in cache"),
    new_allocated_blocks: nn.optional().describe("KV blocks newly allocated"),
    total_allocated_blocks: nn.optional().describe("KV blocks held by the request in all"),
  })
  .loose();

/** One request's measurement. Durations are in (modelled, when time-scaled) seconds on the agent's monotonic clock. */
export const Sample = z
  .object({
    request_id: z.string().min(1).describe("the workload's request id (pairs runs of the same workload)"),
    batch_index: z.number().int().nonnegative().describe("batch of the request (0 for scenario workloads)"),
    index_in_batch: z.number().int().nonnegative().describe("position within its batch"),
    prompt_id: z.string().min(1).describe("the prompt it sent"),
    context_tokens: z.number().int().positive().describe("context size of its prompt, in tokens"),
    phase: z.enum(['cold', 'reuse']).describe("cold: first use of the prompt; reuse: a repeat of an earlier prompt (prefix)"),
    /** When the request was scheduled, seconds since the run's start (agent monotonic clock). */
    scheduled_at_s: z.number().nonnegative().describe("when the request was scheduled, seconds since the run's start (agent monotonic clock)"),
    /** Scheduled → first streamed chunk carrying generated text. Null when the request failed before it. */
    ttft_s: nn.describe("time to first token: scheduled \u2192 first streamed text, seconds; null when it failed before"),
    /** Scheduled → end of stream. */
    latency_s: nn.describe("scheduled \u2192 end of stream, seconds"),
    /** Gaps between consecutive text-carrying chunks. */
    itl_s: z.array(z.number()).default([]).describe("gaps between consecutive text-carrying chunks, seconds"),
    prompt_tokens_client: z.number().int().nonnegative().describe("prompt tokens as the client counted them"),
    prompt_tokens_server: z.number().int().nonnegative().nullable().describe("prompt tokens as the engine reported them; null when it did not"),
    completion_tokens_client: z.number().int().nonnegative().describe("generated tokens as the client counted them"),
    completion_tokens_server: z.number().int().nonnegative().nullable().describe("generated tokens as the engine reported them; null when it did not"),
    cached_tokens: z.number().int().nonnegative().nullable().describe("prompt tokens the engine served from cache (usage.cached_tokens); null when not reported"),
    ok: z.boolean().describe("whether the request completed"),
    error: z.string().nullable().default(null).describe("why it failed; null when ok"),
    server: ServerRequestMetrics.nullable().default(null).describe("per-request figures the engine itself reported (/perf_metrics); null when none"),
    /**
     * Scenario workloads only: the request's place in its scenario (kind, session and turn,
     * document and round, trace line, sweep id and point), so reports can group by it; plus
     * `release`, what released it. Absent for the original batches.
     */
    scenario: ScenarioTags.extend({ release: z.enum(['time', 'completion']).optional().describe('time: released at its time; completion: released by an earlier request finishing') }).optional().describe("scenario workloads only: the request's place in its scenario, plus `release` (what released it)"),
    // Added with the TTFT breakdown (optional: samples stored before it have neither).
    /** Where this request's TTFT went (breakdown.ts); null parts carry their reason. */
    breakdown: TtftBreakdown.nullable().optional().describe("where this request's TTFT went; null parts carry their reason"),
    /** Where its prompt tokens came from: GPU cache, host cache, recomputed. */
    tokens: RequestTokens.nullable().optional().describe("where its prompt tokens came from: GPU cache, host cache, recomputed"),
  })
  .loose();
export type Sample = z.infer<typeof Sample>;

/** Free-form but typed-where-known description of a run (original `run_meta`). */
export const RunMeta = z
  .object({
    run_id: RunId,
    attempt: z.number().int().positive().describe("attempt these results come from"),
    system_label: SystemLabel,
    model: z.string().describe("model the engine served"),
    workload_id: z.string().describe("the workload replayed"),
    simulated: z.boolean().describe("true when the built-in simulator produced the figures (a model, not a measurement)"),
    percentile_method: z.string().describe("how percentiles were computed"),
    /** Simulator runs: "virtual" when every time is the simulator's modelled time (no wall clock), else "real". */
    clock: z
      .enum(['real', 'virtual'])
      .optional()
      .describe('simulator runs: "virtual" when every time is the simulator\'s modelled time (no wall clock), else "real"'),
    /** A simulator run in real time whose host was late against the model by more than threshold_share of its TTFT p50; null: not measurable. */
    host_bound: z
      .boolean()
      .nullable()
      .optional()
      .describe("true when the simulator's host was late against the model by more than threshold_share of the TTFT p50 (its verdicts say so); null: not a simulator run or not measurable"),
    host_lateness: z
      .object({
        p50_ms: z.number().nullable().describe('median lateness per request, in modelled ms'),
        p99_ms: z.number().nullable().describe('99th percentile lateness per request, in modelled ms'),
        max_ms: z.number().nullable().describe('largest lateness of a request, in modelled ms'),
        share_of_ttft_p50: z.number().nullable().describe('p50_ms as a share of the run\'s TTFT p50'),
        threshold_share: z.number().describe('the share above which the run is host-bound'),
        reason: z.string().describe('how the lateness was measured, or why it was not'),
      })
      .nullable()
      .optional()
      .describe("how late the simulator's host was against its model (intake plus first-token hand-off); null: not measured"),
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

/** Which run, attempt and machine an event belongs to. */
export interface RunEventSource {
  run_id: string;
  attempt: number;
  system_label: string;
}
/** An event's own fields: everything but the envelope. */
export type RunEventBody<T extends RunEventType> = Omit<RunEventOf<T>, keyof typeof envelope | 'type'>;

/**
 * A run event: the one place its envelope (schema, version, run, attempt, label, time) is built, for
 * every publisher (the runner's samples, the agent's failed and cancelled, the workload-api's
 * accepted, failed and cancelled).
 */
export function runEvent<T extends RunEventType>(type: T, source: RunEventSource, body: RunEventBody<T>, at: Date = new Date()): RunEventOf<T> {
  return {
    schema: 'kvbench.event',
    version: 1,
    run_id: source.run_id,
    attempt: source.attempt,
    system_label: source.system_label,
    at: at.toISOString(),
    type,
    ...body,
  } as RunEventOf<T>;
}
