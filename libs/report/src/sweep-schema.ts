/**
 * The sweep report (sweeps.ts's SweepReport) as a zod schema: what GET /sweeps/:id serves and its
 * OpenAPI document describes. The report's types stay the interfaces in sweeps.ts, where the code
 * that fills them is; the check at the bottom fails the build when the two part, so the served
 * document can neither drop a new field (zod strips unknown keys) nor describe one that is gone.
 */
import { z } from 'zod';
import type { SweepReport } from './sweeps.js';
import { EXAMPLE_SWEEP_REPORT } from './sweep-example.js';

const nn = z.number().nullable();
const reasons = z.record(z.string(), z.string()).describe('why each null figure is null, keyed by its field name');
const interval = {
  ci_low: nn.describe('lower end of the bootstrap interval of the ratio (95%); null without an interval'),
  ci_high: nn.describe('upper end of the bootstrap interval of the ratio; null without an interval'),
};

export const CapacityPointSchema = z.object({
  point: z.string().describe('the sweep point as given to --points (run_meta.workload.sweep.point): a token count, xG (x × the GPU pool) or xGH (x × GPU pool + host cache), e.g. "2G"'),
  working_set_tokens: nn.describe('documents × document tokens of the point (tokens); null when the workload does not say'),
  working_set_gib: nn.describe('the working set as KV bytes (GiB): tokens × block bytes / tokens per block; null when unknown'),
  systems: z
    .record(
      z.string(),
      z.object({
        run_id: z.string().nullable().describe('the run of this system at this point (the latest); null when not recorded'),
        n: z.number().describe("measured requests of the measured rounds (round 2 and later)"),
        ttft_p50_s: nn.describe('TTFT p50 of those requests (s)'),
        ttft_p90_s: nn.describe('TTFT p90 of those requests (s)'),
        hit_rate: nn.describe("the engine's cache hit rate over the run (log_metrics.cache_hit_rate, fraction); null when not reported"),
      }),
    )
    .describe('per system label'),
  vs_baseline: z
    .array(
      z.object({
        system: z.string().describe('system label compared'),
        paired: z.number().describe('requests measured on both sides (same document, same request ids)'),
        ratio: nn.describe('TTFT p50 ratio system / baseline over the measured rounds, paired; null with too few pairs'),
        ...interval,
      }),
    )
    .describe('each other system against the baseline at this point'),
});

export const SweepProvenanceSchema = z.object({
  simulated: z.enum(['all', 'none', 'some']).describe("'all': every run is the simulator's model; 'none': every run a real engine's; 'some': a mix"),
  clock: z.enum(['virtual', 'real', 'mixed']).nullable().describe("the simulator runs' clock; null without simulator runs or when unrecorded"),
  note: z.string().nullable().describe('what to know before reading the figures (simulated, and on the virtual clock why intervals are zero-width); null for real engines'),
});

export const CapacitySweepReportSchema = z.object({
  sweep_id: z.string().describe('the sweep id (run_meta.workload.sweep.id)'),
  baseline: z.string().describe('system label the ratios are taken against'),
  systems: z.array(z.string()).describe('system labels in the sweep'),
  provenance: SweepProvenanceSchema.describe("whether these figures are the simulator's model or measured"),
  tiers: z
    .record(
      z.string(),
      z.object({
        G: nn.describe('GPU KV pool (tokens); null when unknown'),
        GH: nn.describe('GPU pool + host cache (tokens); null when unknown'),
      }),
    )
    .describe("each system's cache tiers, drawn on the working-set axis"),
  points: z.array(CapacityPointSchema).describe('one per working set, smallest first'),
});

export const OffloadSideSchema = z.object({
  run_id: z.string().nullable().describe('the replay run; null when not recorded'),
  ttft_s: nn.describe("the replayed request's TTFT (s); null when it failed"),
  valid: z.boolean().describe("the engine's counters confirm where the KV came from (offload: every full block onboarded, no GPU hit; recompute: nothing reused)"),
  invalid_reason: z.string().nullable().describe('why the replay does not count; null when valid'),
  onboarded_blocks: nn.describe('KV blocks onboarded host → GPU for the replay (engine counters)'),
  reused_blocks: nn.describe('KV blocks reused for the replay (engine counters)'),
  engine_first_token_s: nn.optional().describe("the engine's part of the replay's TTFT (scheduled → first token, sample.breakdown.first_token_s, s); null when unknown"),
  host_bound: z.boolean().nullable().optional().describe("run_meta.host_bound of the replay's run: the simulator's host was late enough to shape TTFT"),
});

export const ReplayStatsSchema = z.object({
  n: z.number().describe('replays run'),
  valid: z.number().describe('replays the counters confirm (the others are left out, reasons in invalid_reasons)'),
  ttft_median_s: nn.describe('median TTFT of the valid replays (s)'),
  ci_low_s: nn.describe('lower end of the percentile-bootstrap interval of that median (s, seeded); null below 2 valid replays'),
  ci_high_s: nn.describe('upper end of that interval (s); null below 2 valid replays'),
  engine_first_token_median_s: nn.describe("median of the engine's own first-token time over the valid replays (s): TTFT without the host's and the transport's share"),
  invalid_reasons: z.array(z.string()).describe('why each left-out replay does not count'),
});

export const OffloadPointSchema = z.object({
  prompt_tokens: z.number().describe('prompt length of the point (tokens)'),
  vs_baseline: z
    .array(
      z.object({
        system: z.string().describe('system label compared'),
        baseline: z.string().describe('the baseline system label'),
        ratio: nn.describe("onboard (offload-mode) TTFT median of the system / the baseline's; below 1: faster than the baseline"),
        ...interval,
      }),
    )
    .describe("each other system's onboard TTFT against the baseline's (an independent bootstrap of the two medians' ratio)"),
  systems: z
    .record(
      z.string(),
      z.object({
        offload: OffloadSideSchema.nullable().describe('the latest replay with its KV onboarded from the host; null when none ran'),
        recompute: OffloadSideSchema.nullable().describe('the latest replay recomputing the prompt (no host cache); null when none ran'),
        offload_replays: ReplayStatsSchema.describe("every onboard replay's summary"),
        recompute_replays: ReplayStatsSchema.describe("every recompute replay's summary"),
        flags: z
          .array(z.string())
          .describe("why this point cannot be taken at face value: replays the counters do not confirm, or more time beyond the link bound than another system needed beyond its own; empty when none"),
        kv_bytes: nn.describe("the prompt's full blocks × block bytes (bytes); null when the block size is unknown"),
        bandwidth_gbps: nn.describe('host → GPU bandwidth used for the link bound (GB/s); null when unknown'),
        bandwidth_source: z.string().nullable().describe('where that bandwidth comes from (measured by the engine, link check, profiled) and how link_bound_s was computed from it'),
        link_bound_s: nn.describe("the least time the link needs for the replay's KV copies (s): kv_bytes / bandwidth_gbps, or more where the reload forces offloads at the same time (bandwidth_source says which); null when either is unknown"),
        speedup: nn.describe('recompute TTFT / offload TTFT, medians of the valid replays; above 1: onboarding beats recomputing'),
        null_reasons: reasons,
      }),
    )
    .describe('per system label'),
});

export const OffloadSweepReportSchema = z.object({
  sweep_id: z.string().describe('the sweep id (run_meta.workload.sweep.id)'),
  baseline: z.string().describe('system label the ratios are taken against'),
  systems: z.array(z.string()).describe('system labels in the sweep'),
  provenance: SweepProvenanceSchema.describe("whether these figures are the simulator's model or measured"),
  points: z.array(OffloadPointSchema).describe('one per prompt length, shortest first'),
});

export const SweepReportSchema = z
  .object({
    capacity: CapacitySweepReportSchema.nullable().describe('the capacity sweep (TTFT and hit rate against the working set); null when the sweep has no docqa runs'),
    offload: OffloadSweepReportSchema.nullable().describe('the offload vs recompute sweep (by prompt length, with the link bound); null when the sweep has no offload runs'),
  })
  .meta({ id: 'SweepReport', examples: [EXAMPLE_SWEEP_REPORT] });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when SweepReportSchema and sweeps.ts's SweepReport disagree on any field. */
export const SWEEP_SCHEMA_MATCHES_REPORT: Same<z.infer<typeof SweepReportSchema>, SweepReport> = true;
