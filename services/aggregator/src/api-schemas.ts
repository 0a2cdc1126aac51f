import { z } from 'zod';
import { Aggregate, Job, LogMetrics, RunId, RunMeta, Sample, SystemLabel, TelemetryPoint, TelemetrySummary } from '@kvbench/common';
import { ATTEMPT_STATUSES, RUN_STATUSES } from './store/run-status.js';

/** Schemas of the aggregator's HTTP API: request validation, responses and the OpenAPI document. */

export const RunStatusName = z.enum(RUN_STATUSES);
export const AttemptStatusName = z.enum(ATTEMPT_STATUSES);

const boolString = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

export const RunIdParams = z.object({ id: RunId });

export const RunsQuery = z.object({
  workload_id: z.string().min(1).max(200).optional(),
  system_label: SystemLabel.optional(),
  status: RunStatusName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
});
export type RunsQuery = z.infer<typeof RunsQuery>;

export const ResultsQuery = z.object({
  workload_id: z.string().min(1).max(200).optional(),
  system_label: SystemLabel.optional(),
  run_id: RunId.optional(),
  summary: boolString.optional().describe('true: omit samples (aggregate, log_metrics and run_meta only)'),
});
export type ResultsQuery = z.infer<typeof ResultsQuery>;

export const EventsQuery = z.object({
  /** Same as the Last-Event-ID header, for clients that cannot set headers. */
  last_event_id: z.coerce.number().int().min(0).optional(),
});

export const RunSummary = z.object({
  run_id: RunId,
  system_label: z.string(),
  workload_id: z.string().nullable(),
  model: z.string().nullable(),
  status: RunStatusName,
  attempt_count: z.number().int(),
  /** The attempt results come from when completed, otherwise the latest attempt. */
  current_attempt: z.number().int().nullable(),
  result_attempt: z.number().int().nullable(),
  expected_samples: z.number().int().nullable(),
  received_samples: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const AttemptInfo = z.object({
  attempt: z.number().int(),
  status: AttemptStatusName,
  /** true only for the attempt whose samples are in /results. */
  in_results: z.boolean(),
  expected_samples: z.number().int().nullable(),
  /** sample_count announced by the completed event. */
  sample_count: z.number().int().nullable(),
  received_samples: z.number().int(),
  accepted_at: z.string().nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  failed_at: z.string().nullable(),
  cancelled_at: z.string().nullable(),
  error: z.string().nullable(),
  log_tail: z.array(z.string()).nullable(),
});
export type AttemptInfo = z.infer<typeof AttemptInfo>;

export const RunDetail = RunSummary.extend({
  attempts: z.array(AttemptInfo),
  job: Job.nullable(),
  run_meta: RunMeta.nullable(),
  log_metrics: LogMetrics.nullable(),
  aggregate: Aggregate.nullable(),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const RunList = z.object({ runs: z.array(RunSummary) });

export const RunResultSummary = z.object({
  aggregate: Aggregate,
  log_metrics: LogMetrics,
  run_meta: RunMeta,
  /** Link and GPU telemetry over the run (issue 23); null when the run has none. */
  telemetry: TelemetrySummary.nullable().optional(),
});
/** /results: samples present unless summary=true. */
export const ResultsResponse = z.object({
  runs: z.record(z.string(), z.array(RunResultSummary.extend({ samples: z.array(Sample).optional() }))),
});

export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  /** The offending field for 400s (dotted path, e.g. `query.limit`). */
  field: z.string().optional(),
});

export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  schema_version: z.number().int(),
  ingest: z.object({
    running: z.boolean(),
    committed_events: z.number().int(),
    storage_error: z.string().nullable(),
  }),
});

/** GET /runs/:id/telemetry (issue 23): the run's series and summary. */
export const RunTelemetryResponse = z.object({
  run_id: RunId,
  attempt: z.number().int().positive().nullable(),
  summary: TelemetrySummary.nullable(),
  points: z.array(TelemetryPoint),
});
