import { z } from 'zod';
import { describeZodError, issuePath } from '../validate.js';
import { ValidationError } from '../errors.js';
import { RunResult } from './results.js';

const nn = z.number().nullable();

/**
 * One request as the original benchmark_kv_offload.py recorded it: its position in the
 * workload (batch, index in batch), no request id, and one timer per batch — every
 * request of a batch carries the batch's wall time (see DESIGN.md, "Lessons from the original").
 */
export const OriginalToolSample = z
  .object({
    batch_index: z.number().int().nonnegative(),
    request_index_in_batch: z.number().int().nonnegative(),
    ttft_seconds: nn,
    total_latency_seconds: nn,
    // `int(item.get("context_tokens", 0))`: 0 when its workload item had none.
    context_tokens: z.number().int().nonnegative(),
    prompt_chars: z.number().int().nonnegative().optional(),
  })
  .loose();
export type OriginalToolSample = z.infer<typeof OriginalToolSample>;

/** A run as the original tool appended it under `runs.<system_label>`. */
export const OriginalToolRun = z
  .object({
    aggregate: z
      .object({
        wall_time_seconds: nn.optional(),
        num_requests: nn.optional(),
        throughput_req_per_s: nn.optional(),
        ttft_p50_s: nn.optional(),
        ttft_p95_s: nn.optional(),
        ttft_p99_s: nn.optional(),
        latency_p50_s: nn.optional(),
        latency_p95_s: nn.optional(),
        latency_p99_s: nn.optional(),
      })
      .loose(),
    samples: z.array(OriginalToolSample),
    // Its log parsing never matched a TensorRT-LLM line: every figure is null (or the block is).
    log_metrics: z
      .object({ cache_hit_rate: nn, reused_blocks: nn, offloaded_blocks: nn, observed_offload_bandwidth_gbps: nn })
      .partial()
      .loose()
      .nullish(),
    run_meta: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type OriginalToolRun = z.infer<typeof OriginalToolRun>;

/** A run in a results file, with who wrote it. */
export type StoredRun = { origin: 'kvbench'; run: RunResult } | { origin: 'original-tool'; run: OriginalToolRun };

/** benchmark_results.json as found on disk: kvbench's runs and the original tool's, side by side. */
export interface ResultsFile {
  runs: Record<string, StoredRun[]>;
}

/** Does this run look like the original tool's (so its errors are reported against that schema)? */
function looksOriginal(raw: unknown): boolean {
  const samples = (raw as { samples?: unknown } | null)?.samples;
  const first = Array.isArray(samples) ? (samples[0] as Record<string, unknown> | undefined) : undefined;
  if (first && typeof first === 'object') return 'request_index_in_batch' in first || 'ttft_seconds' in first;
  const lm = (raw as { log_metrics?: unknown } | null)?.log_metrics;
  return lm === null || (typeof lm === 'object' && lm !== null && !('null_reasons' in lm) && !('sources' in lm));
}

/**
 * Validate a parsed results document run by run: each run is kvbench's or the original
 * tool's. A run that is neither is reported by its place (`runs.pcie.0.samples.3.ttft_seconds`)
 * against the schema it looks closest to.
 */
export function parseResultsFile(json: unknown, what: string): ResultsFile {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ValidationError(`invalid ${what}: not a results document (a JSON object with "runs")`, '(root)');
  }
  const runsRaw = (json as { runs?: unknown }).runs;
  if (typeof runsRaw !== 'object' || runsRaw === null || Array.isArray(runsRaw)) {
    throw new ValidationError(`invalid ${what}: not a results document: "runs" ${runsRaw === undefined ? 'is missing' : 'is not an object'}`, 'runs');
  }
  const runs: Record<string, StoredRun[]> = {};
  for (const [label, list] of Object.entries(runsRaw)) {
    if (!Array.isArray(list)) throw new ValidationError(`invalid ${what}: runs.${label} is not a list of runs`, `runs.${label}`);
    runs[label] = list.map((raw, i) => {
      const kv = RunResult.safeParse(raw);
      if (kv.success) return { origin: 'kvbench', run: kv.data };
      const orig = OriginalToolRun.safeParse(raw);
      if (orig.success) return { origin: 'original-tool', run: orig.data };
      const [error, whose] = looksOriginal(raw) ? [orig.error, ' (a run of the original tool)'] : [kv.error, ''];
      const first = error.issues[0];
      const at = `runs.${label}.${i}`;
      throw new ValidationError(`invalid ${what}: ${at}${whose}: ${describeZodError(error)}`, first ? `${at}.${issuePath(first.path)}` : at, {
        cause: error,
      });
    });
  }
  return { runs };
}
