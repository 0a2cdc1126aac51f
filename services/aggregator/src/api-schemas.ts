import { z } from 'zod';
import { Aggregate, Job, LogMetrics, RunId, RunMeta, Sample, SystemLabel, TelemetryPoint, TelemetrySummary } from '@kvbench/common';
import { EXAMPLE_HEALTH, EXAMPLE_RESULTS, EXAMPLE_RUN_DETAIL, EXAMPLE_RUN_SUMMARY, EXAMPLE_RUN_TELEMETRY } from './api-examples.js';
import { ATTEMPT_STATUSES, RUN_STATUSES } from './store/run-status.js';

/** Schemas of the aggregator's HTTP API: request validation, responses and the OpenAPI document. */

export const RunStatusName = z.enum(RUN_STATUSES);
export const AttemptStatusName = z.enum(ATTEMPT_STATUSES);

const boolString = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

export const RunIdParams = z.object({ id: RunId });

export const RunsQuery = z.object({
  workload_id: z.string().min(1).max(200).optional().describe("only runs of this workload"),
  system_label: SystemLabel.optional().describe("only runs of this system label"),
  status: RunStatusName.optional().describe("only runs in this status"),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe("at most this many runs (1-1000)"),
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0).describe("skip this many runs first (paging)"),
});
export type RunsQuery = z.infer<typeof RunsQuery>;

export const ResultsQuery = z.object({
  workload_id: z.string().min(1).max(200).optional().describe("only runs of this workload"),
  system_label: SystemLabel.optional().describe("only runs of this system label"),
  run_id: RunId.optional().describe("only this run"),
  summary: boolString.optional().describe('true: omit samples (aggregate, log_metrics and run_meta only)'),
});
export type ResultsQuery = z.infer<typeof ResultsQuery>;

export const EventsQuery = z.object({
  /** Same as the Last-Event-ID header, for clients that cannot set headers. */
  last_event_id: z.coerce.number().int().min(0).optional().describe("resume after this event id (same as the Last-Event-ID header, for clients that cannot set headers)"),
});

export const RunSummary = z.object({
  run_id: RunId,
  system_label: z.string().describe("system label it ran on"),
  workload_id: z.string().nullable().describe("the workload it replays; null until its accepted event arrived"),
  model: z.string().nullable().describe("model name; null until known"),
  status: RunStatusName.describe("queued, running, completed, failed or cancelled"),
  attempt_count: z.number().int().describe("attempts seen so far"),
  /** The attempt results come from when completed, otherwise the latest attempt. */
  current_attempt: z.number().int().nullable().describe("the latest attempt; null before any"),
  result_attempt: z.number().int().nullable().describe("the attempt results come from (completed runs); null otherwise"),
  expected_samples: z.number().int().nullable().describe("requests the run measures; null until it started"),
  received_samples: z.number().int().describe("samples stored so far for the current attempt"),
  created_at: z.string().describe("first event stored (ISO 8601)"),
  updated_at: z.string().describe("latest event stored (ISO 8601)"),
  completed_at: z.string().nullable().describe("when it completed (ISO 8601); null otherwise"),
}).meta({ id: 'RunSummary', examples: [EXAMPLE_RUN_SUMMARY] });
export type RunSummary = z.infer<typeof RunSummary>;

export const AttemptInfo = z.object({
  attempt: z.number().int().describe("attempt number, from 1"),
  status: AttemptStatusName.describe("status of this attempt (abandoned: superseded by a later attempt)"),
  /** true only for the attempt whose samples are in /results. */
  in_results: z.boolean().describe("true only for the attempt whose samples are in /results"),
  expected_samples: z.number().int().nullable().describe("requests it measures; null until started"),
  /** sample_count announced by the completed event. */
  sample_count: z.number().int().nullable().describe("sample_count announced by its completed event; null before"),
  received_samples: z.number().int().describe("samples stored for this attempt"),
  accepted_at: z.string().nullable().describe("ISO 8601, or null"),
  started_at: z.string().nullable().describe("ISO 8601, or null"),
  completed_at: z.string().nullable().describe("ISO 8601, or null"),
  failed_at: z.string().nullable().describe("ISO 8601, or null"),
  cancelled_at: z.string().nullable().describe("ISO 8601, or null"),
  error: z.string().nullable().describe("why it failed; null otherwise"),
  log_tail: z.array(z.string()).nullable().describe("last lines of the engine's log when it failed; null otherwise"),
  log_tail_withheld: z.string().optional().describe('set instead of log_tail when readers are not authenticated (no READ_TOKEN)'),
});
export type AttemptInfo = z.infer<typeof AttemptInfo>;

export const RunDetail = RunSummary.extend({
  attempts: z.array(AttemptInfo).describe("every attempt, oldest first"),
  job: Job.nullable().describe("the job as accepted; null before its accepted event"),
  run_meta: RunMeta.nullable().describe("run metadata from the started/completed event; null before"),
  log_metrics: LogMetrics.nullable().describe("cache metrics of the result attempt; null before it completed"),
  aggregate: Aggregate.nullable().describe("percentiles of the result attempt; null before it completed"),
}).meta({ id: 'RunDetail', examples: [EXAMPLE_RUN_DETAIL] });
export type RunDetail = z.infer<typeof RunDetail>;

export const RunList = z.object({ runs: z.array(RunSummary).describe('newest first') }).meta({ id: 'RunList', examples: [{ runs: [EXAMPLE_RUN_SUMMARY] }] });

export const RunResultSummary = z.object({
  aggregate: Aggregate.describe('TTFT and latency percentiles, throughput'),
  log_metrics: LogMetrics.describe("cache metrics from the engine's statistics"),
  run_meta: RunMeta.describe('run metadata (engine, settings, simulated)'),
  /** Link and GPU telemetry over the run (issue 23); null when the run has none. */
  telemetry: TelemetrySummary.nullable().optional().describe('link and GPU telemetry over the run; null when the run has none'),
});
/** /results: samples present unless summary=true. */
export const ResultsResponse = z.object({
  runs: z
    .record(z.string(), z.array(RunResultSummary.extend({ samples: z.array(Sample).optional().describe('one per request; omitted with summary=true') })))
    .describe('completed runs by system label, oldest first'),
}).meta({ id: 'Results', examples: [EXAMPLE_RESULTS] });

export const ErrorBody = z.object({
  error: z.string().describe("machine-readable code, e.g. VALIDATION_ERROR, NOT_FOUND"),
  message: z.string().describe("what went wrong"),
  /** The offending field for 400s (dotted path, e.g. `query.limit`). */
  field: z.string().optional().describe("the offending field for 400s (dotted path, e.g. limit)"),
}).meta({ id: 'ErrorBody' });

export const Health = z.object({
  status: z.enum(['ok', 'degraded']).describe("ok: ingesting and serving; degraded: ingest stopped or storage failed"),
  schema_version: z.number().int().describe("SQLite schema version"),
  ingest: z.object({
    running: z.boolean().describe("whether the event consumer runs"),
    committed_events: z.number().int().describe("events stored since start"),
    rejected_samples: z.number().int().describe("samples refused since start: no such request in the run's workload (forged or misaddressed)"),
    event_signing: z.enum(['on', 'off']).describe("on: only events signed with their run's key are stored (EVENT_SIGNING_SECRET); off: unsigned events are accepted"),
    rejected_unsigned: z.number().int().describe("events refused since start because they carried no signature (event_signing on)"),
    rejected_bad_signature: z.number().int().describe("events refused since start because their signature does not match their run's key, subject and payload (forged, or signed for another run)"),
    storage_error: z.string().nullable().describe("the last storage error; null when none"),
  }).describe('the event consumer'),
}).meta({ id: 'Health', examples: [EXAMPLE_HEALTH] });

/** GET /runs/:id/telemetry (issue 23): the run's series and summary. */
export const RunTelemetryResponse = z
  .object({
    run_id: RunId,
    attempt: z.number().int().positive().nullable().describe('the attempt the telemetry is of: the one in results once completed, else the current one; null before any'),
    summary: TelemetrySummary.nullable().describe("the run's telemetry summary; null before its telemetry event arrived or when it has none"),
    points: z.array(TelemetryPoint).describe('one point per period per GPU, in time order; empty before any'),
  })
  .meta({ id: 'RunTelemetry', examples: [EXAMPLE_RUN_TELEMETRY] });
