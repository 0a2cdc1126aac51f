import { z } from 'zod';
import { LogMetrics, RunMeta, Sample } from './events.js';
import { TelemetrySummary } from './telemetry.js';

/** The original `aggregate` block, plus counts and means. */
export const Aggregate = z
  .object({
    throughput_req_per_s: z.number().nullable(),
    ttft_p50_s: z.number().nullable(),
    ttft_p95_s: z.number().nullable(),
    ttft_p99_s: z.number().nullable(),
    latency_p50_s: z.number().nullable(),
    latency_p95_s: z.number().nullable(),
    latency_p99_s: z.number().nullable(),
  })
  .loose();
export type Aggregate = z.infer<typeof Aggregate>;

export const RunResult = z
  .object({
    aggregate: Aggregate,
    log_metrics: LogMetrics,
    samples: z.array(Sample),
    run_meta: RunMeta.or(z.record(z.string(), z.unknown())),
    /** Link and GPU telemetry over the run window (issue 23); null/absent when none was sampled. */
    telemetry: TelemetrySummary.nullable().optional(),
  })
  .loose();
export type RunResult = z.infer<typeof RunResult>;

/** benchmark_results.json: `runs.<system_label>[]`, earlier runs kept. */
export const ResultsDocument = z
  .object({ runs: z.record(z.string(), z.array(RunResult)) })
  .loose();
export type ResultsDocument = z.infer<typeof ResultsDocument>;
