/**
 * The comparison document, defined once: what compareRuns returns, GET /compare serves (the
 * aggregator's route and its OpenAPI use these schemas) and the renderers read. The TypeScript
 * types in types.ts and the report modules are inferred from here.
 */
import { z } from 'zod';
import { EXAMPLE_COMPARISON } from './comparison-example.js';

const nn = z.number().nullable();
const reasons = z.record(z.string(), z.string()).describe('why each null figure is null, keyed by its field name');
const systemKey = (what: string) => z.string().describe(`${what}: a ComparedSystem.key (system label, or label@run_id)`);
const ratioOf = (what: string) => ({
  ratio: nn.describe(`${what}: system / baseline (below 1: the system is lower); null when it cannot be computed`),
  ci_low: nn.describe('lower end of the paired bootstrap interval of the ratio (at method.confidence); null without an interval'),
  ci_high: nn.describe('upper end of the paired bootstrap interval of the ratio; null without an interval'),
});
const pairedCount = z.number().describe('requests measured on both sides (the bootstrap\'s sample)');
/** A figure taken on both sides of a comparison row, `{ baseline, system }`; `unit` (e.g. ' (s)') ends each side's description. */
const eachSide = <Figure extends z.ZodType>(figure: Figure, unit = '') =>
  z.object({ baseline: figure.describe(`on the baseline${unit}`), system: figure.describe(`on the system${unit}`) });

/** The parts of TTFT drawn: the top-level ones, with first_token split where the engine says how (the simulator). */
export const SPLIT_PARTS = ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'onboard_s', 'prefill_s', 'batch_other_s', 'first_token_s', 'to_client_s'] as const;
export const SplitPartSchema = z
  .enum(SPLIT_PARTS)
  .describe('a part of TTFT: client_wait_s, to_engine_s, engine_queue_s, onboard_s (host → GPU KV reload), prefill_s, batch_other_s, first_token_s, to_client_s');

export const PhaseSchema = z.enum(['cold', 'reuse']).describe("cold: the request's first use of its prompt (prefix); reuse: a repeat of an earlier request's prompt (prefix)");
/** 'all' = every request of the run (all contexts, both phases). */
export const RowPhaseSchema = z.enum(['cold', 'reuse', 'all']).describe("the row's requests: cold, reuse, or all (every request of the run)");

/** Length bucket of a trace run (prompt tokens in [low, high)). */
const BucketSchema = z.object({ low: z.number().describe('lowest prompt length in the bucket (tokens, inclusive)'), high: z.number().describe('end of the bucket (tokens, exclusive)') });

export const PercentilesSchema = z.object({
  p50: nn.describe('median (s); null without a measured request'),
  p95: nn.describe('95th percentile (s); null without a measured request'),
  p99: nn.describe('99th percentile (s); null without a measured request'),
});

export const SystemRowStatsSchema = z.object({
  n: z.number().describe('successful requests with both TTFT and latency'),
  n_failed: z.number().describe('requests in this row that failed or lack a timing'),
  ttft_s: PercentilesSchema.describe('time to first token over the measured requests (s)'),
  latency_s: PercentilesSchema.describe('end-to-end latency over the measured requests (s)'),
  throughput_req_per_s: nn.describe("run-level: filled on the 'all' row only"),
  cache_hit_rate: nn.describe("run-level (log_metrics.cache_hit_rate, fraction 0–1): filled on the 'all' row only"),
  offloaded_blocks: nn.describe("run-level (log_metrics): KV blocks offloaded GPU → host; filled on the 'all' row only"),
  onboarded_blocks: nn.describe("run-level (log_metrics): KV blocks onboarded host → GPU; filled on the 'all' row only"),
  offload_bandwidth_gbps: nn.describe("run-level (log_metrics.observed_offload_bandwidth_gbps, GB/s); filled on the 'all' row only"),
});

export const PairedMetricIdSchema = z.enum(['ttft_p50', 'ttft_p95', 'ttft_p99', 'latency_p50', 'latency_p95', 'latency_p99']);
export const RunLevelMetricIdSchema = z.enum(['throughput', 'cache_hit_rate', 'offloaded_blocks', 'onboarded_blocks', 'offload_bandwidth']);

export const MetricRatioSchema = z.object({
  metric: z
    .union([PairedMetricIdSchema, RunLevelMetricIdSchema])
    .describe('ttft_p50/p95/p99, latency_p50/p95/p99 (paired), or throughput, cache_hit_rate, offloaded_blocks, onboarded_blocks, offload_bandwidth (run-level)'),
  name: z.string().describe('human name, e.g. "TTFT p50"'),
  kind: z.enum(['paired', 'run-level']).describe("'paired': bootstrap over paired requests; 'run-level': one value per run, ratio without interval"),
  ratio: nn.describe('other / baseline'),
  ci_low: nn.describe('lower end of the paired bootstrap interval of the ratio (at method.confidence); null for run-level metrics and too few pairs'),
  ci_high: nn.describe('upper end of that interval; null like ci_low'),
  significant: z.boolean().nullable().describe('the interval excludes 1 (no change); null without an interval'),
  /** Effect as a factor − 1: max(ratio, 1/ratio) − 1; 0.05 = 5%. */
  effect: nn.describe('size of the difference: max(ratio, 1/ratio) − 1 (0.05 = 5%)'),
  meaningful: z
    .boolean()
    .nullable()
    .describe('a difference is called: the interval excludes 1 AND the effect is at least method.min_effect; null without an interval'),
  verdict: z.string().describe('the verdict in words, e.g. "C2C TTFT p50 2.49× lower than PCIe on reuse at 8K tokens, 95% CI 2.42–2.56×", or "no meaningful difference" with the ratio, interval and why'),
});

/** What decides a row's verdict: where each side's KV came from, what the link allows, which TTFT parts differ. */
export const EvidenceSchema = z.object({
  requests: eachSide(z.number()).describe('measured requests in the row on each side'),
  requests_reloaded: eachSide(nn).describe('requests that onboarded KV from the host tier (sample.tokens.host_onboarded > 0); null when the engine does not say'),
  onboarded_blocks: eachSide(nn).describe('KV blocks onboarded host → GPU by the row\'s requests (per-request token tiers; the run\'s counters on the all-requests row)'),
  onboarded_source: z.string().describe('where onboarded_blocks come from (per-request token tiers, or the run\'s counters), per side when they differ'),
  link_bound_s: eachSide(nn, ' (s)')
    .describe(
      "the least time each side's link needs for the same KV: link_bound_basis.kv_tokens of KV (its bytes from kv_pools) over that side's host→GPU bandwidth; null with the reason in null_reasons",
    ),
  link_bound_source: eachSide(z.string().nullable())
    .describe("where each side's host→GPU bandwidth came from: measured by the engine, the link check at the block size, or the simulator profile"),
  link_bound_basis: z
    .object({
      requests: z.number().int().describe('requests measured on both sides that reloaded KV from the host on either side'),
      kv_tokens: nn.describe("median over those requests of the KV tokens reloaded (per request, the larger of the two sides' host_onboarded); null when none"),
    })
    .describe('the one request set both link bounds are computed over, so they differ by the links alone'),
  link_exercised: z.boolean().nullable().describe('some request reloaded from the host on either side; null when neither engine says'),
  parts: z
    .array(
      z.object({
        part: SplitPartSchema,
        name: z.string().describe('human name of the part, e.g. "KV onboard (host → GPU)"'),
        baseline_p50_s: nn.describe("the part's p50 on the baseline (s)"),
        system_p50_s: nn.describe("the part's p50 on the system (s)"),
        ...ratioOf("the part's paired p50 ratio"),
      }),
    )
    .describe('TTFT parts whose paired p50 ratio is a meaningful difference (interval excludes 1, effect ≥ min_effect)'),
  host_bound: z.boolean().describe('either side\'s run_meta.host_bound is true: the host, not the modelled hardware, set its pace'),
  text: z.string().describe('the evidence in one sentence, as the report prints it beside the verdict'),
  null_reasons: reasons,
});

export const SystemVsBaselineSchema = z.object({
  system: systemKey('the system compared'),
  baseline: systemKey('the baseline'),
  paired: pairedCount,
  unpaired: z
    .object({
      baseline_only: z.number().describe('requests measured only on the baseline'),
      system_only: z.number().describe('requests measured only on the system'),
      failed: z.number().describe('requests that failed on at least one side'),
    })
    .describe('requests left out of the pairing, by why'),
  metrics: z.array(MetricRatioSchema).describe('each metric: its ratio, interval and verdict'),
  evidence: EvidenceSchema.describe('what decides the verdicts of this row'),
});

export const ComparisonRowSchema = z.object({
  context_tokens: nn.describe("null on the 'all' row"),
  phase: RowPhaseSchema,
  /** Length bucket of a trace run (prompt tokens in [low, high)); null for exact context sizes. */
  bucket: BucketSchema.nullable().describe('for trace runs: the length bucket [low, high) of prompt tokens this row groups; context_tokens is then its low end'),
  systems: z.record(z.string(), SystemRowStatsSchema).describe('keyed by ComparedSystem.key'),
  vs_baseline: z.array(SystemVsBaselineSchema).describe('each other system against the baseline'),
});

/** run_meta.host_lateness as recorded (the simulator's own lateness meter). */
export const HostLatenessSchema = z.object({
  p50_ms: nn.describe('median lateness per request, in modelled ms'),
  p99_ms: nn.describe('99th percentile lateness per request, in modelled ms'),
  max_ms: nn.describe('largest lateness of a request, in modelled ms'),
  share_of_ttft_p50: nn.describe("p50_ms as a share of the run's TTFT p50 (fraction)"),
  threshold_share: nn.describe('the share above which the run is host-bound (fraction)'),
  reason: z.string().nullable().describe('how the lateness was measured, or why it was not'),
});

export const ComparedSystemSchema = z.object({
  key: z.string().describe('unique key: the system label, or label@run_id when one label appears twice'),
  label: z.string().describe('system label the run ran on, e.g. pcie, c2c'),
  run_id: z.string().nullable().describe('the run compared; null when its results carry no run id (imported original-tool results)'),
  workload_id: z.string().nullable().describe('the workload it replayed; null when not recorded'),
  simulated: z.boolean().describe('true for a simulator run: its figures are modelled, never measured on hardware'),
  clock: z.enum(['real', 'virtual']).nullable().describe('run_meta.clock: the simulator\'s real or virtual clock; null when not recorded'),
  host_bound: z.boolean().nullable().describe('run_meta.host_bound: the host was late enough to shape TTFT; null when not a simulator run or not measurable'),
  host_lateness: HostLatenessSchema.nullable().describe("how late the simulator's host was against its model; null: not measured"),
  null_reasons: reasons.describe('why a run-level figure is null, as the engine adapter recorded it'),
});

export const BreakdownStatsSchema = z.object({
  n: z.number().describe('requests measured (ok with TTFT)'),
  n_complete: z.number().describe('requests whose five parts are all known'),
  ttft_p50_s: nn.describe('TTFT p50 of the measured requests (s)'),
  part_p50_s: z.partialRecord(SplitPartSchema, nn).describe('each part\'s p50 over the requests where it is known'),
  median_split: z
    .object({
      n: z.number().describe('complete requests in the p40–p60 TTFT band'),
      ttft_mean_s: nn.describe('their mean TTFT (s)'),
      parts: z.array(z.object({ part: SplitPartSchema, seconds: z.number().describe("the part's mean over those requests (s)") })).describe('the parts, in TTFT order'),
    })
    .nullable()
    .describe('the split of the p50: mean parts of the requests in the p40–p60 TTFT band (complete ones only)'),
  null_reasons: z.partialRecord(SplitPartSchema, z.string()).describe('why a part is unknown, keyed by part'),
});

export const PartRatioSchema = z.object({ part: SplitPartSchema, paired: pairedCount, ...ratioOf("the part's paired p50 ratio") });

export const BreakdownRowSchema = z.object({
  context_tokens: nn.describe("context size of the row (tokens); null on the 'all' row"),
  phase: RowPhaseSchema,
  bucket: BucketSchema.nullable().describe('for trace runs: the length bucket of the row; null for exact context sizes'),
  systems: z.record(z.string(), BreakdownStatsSchema).describe('keyed by ComparedSystem.key'),
  vs_baseline: z
    .array(z.object({ system: systemKey('the system compared'), baseline: systemKey('the baseline'), parts: z.array(PartRatioSchema).describe('each part\'s paired p50 ratio') }))
    .describe('each other system\'s parts against the baseline\'s'),
});

export const SloSchema = z.object({
  ttft_ms: z.number().optional().describe('TTFT objective (ms): a request meets it at or below this TTFT'),
  latency_ms: z.number().optional().describe('end-to-end latency objective (ms)'),
});
export const GoodputStatsSchema = z.object({
  requests: z.number().describe('requests of the run'),
  met: z.number().describe('requests that finished ok and met every objective'),
  share: nn.describe('met / requests (fraction); null without requests'),
  window_s: z.number().describe("the run's measuring window (s)"),
  goodput_req_per_s: nn.describe('met / window_s (requests per second); null without a window'),
});
export const GoodputReportSchema = z.object({
  slo: SloSchema.describe('the objectives (query slo=ttft_ms=…,latency_ms=…)'),
  systems: z.record(z.string(), GoodputStatsSchema).describe('keyed by ComparedSystem.key'),
  vs_baseline: z
    .array(
      z.object({
        system: systemKey('the system compared'),
        baseline: systemKey('the baseline'),
        paired: pairedCount,
        ...ratioOf('goodput'),
        verdict: z.string().describe('the verdict in words'),
      }),
    )
    .describe('each other system\'s goodput against the baseline\'s'),
});

export const KvPoolsSchema = z.object({
  tokens_per_block: z.number().describe('tokens per KV block'),
  gpu_blocks: z.number().describe('KV blocks the GPU pool holds'),
  host_blocks: nn.describe("null when the host cache's size in blocks is unknown"),
  source: z.string().describe('where the pool sizes come from (run_meta.kv_pools, or kv_config)'),
  null_reasons: reasons,
});
export const LruResultSchema = z.object({
  lookups: z.number().describe('block lookups replayed'),
  gpu_hits: z.number().describe('lookups found in the GPU pool'),
  host_hits: z.number().describe('lookups found in the host cache'),
  hit_rate: nn.describe('(gpu_hits + host_hits) / lookups (fraction); null without lookups'),
  gpu_hit_rate: nn.describe('gpu_hits / lookups (fraction); null without lookups'),
});
export const HitRatePredictionSchema = z.object({
  system: systemKey('the system'),
  pools: KvPoolsSchema.nullable().describe('the KV pools the prediction replays; null when the run records none'),
  model: z.string().describe('how the requests\' blocks were known: the workload\'s structure, or a trace\'s own hash_ids'),
  gpu_only: LruResultSchema.nullable().describe('LRU with the GPU pool only; null = not modelled (reason in null_reasons)'),
  gpu_and_host: LruResultSchema.nullable().describe('LRU with the host cache behind the GPU pool; null = not modelled'),
  infinite: LruResultSchema.nullable().describe('every repeat a hit: the workload\'s own reuse; null = not modelled'),
  measured: nn.describe("the engine's measured cache hit rate (log_metrics.cache_hit_rate, fraction); null when not reported"),
  difference: nn.describe('measured − predicted (gpu_and_host), in fraction points'),
  disagrees: z.boolean().nullable().describe('measured and predicted are more than 0.1 (10 points) apart; null when either is unknown'),
  note: z.string().describe('the prediction against the measurement in words'),
  null_reasons: reasons,
});

export const SettingRowSchema = z.object({
  setting: z.string().describe('dotted path into run_meta, e.g. "kv_config.host_cache_gb"'),
  values: z.array(z.string().nullable()).describe('its value on each system, in the order of systems; null where that run does not record it'),
  differs: z.boolean().describe('the values are not all the same'),
  identity: z.boolean().describe('it names the run, its host or its times (run_id, system_label, started_at, environment.hostname...) rather than configuring it: differing is expected'),
});

export const BandSchema = z.object({
  value: nn.describe('the estimate (s); null without requests'),
  low: nn.describe('lower end of its bootstrap interval (s)'),
  high: nn.describe('upper end of its bootstrap interval (s)'),
});
export const TurnPointSchema = z.object({
  turn: z.number().describe('turn of the conversation, from 1'),
  n: z.number().describe('measured requests at this turn'),
  ttft_p50_s: BandSchema.describe('TTFT p50 at this turn, with its interval'),
  ttft_p90_s: BandSchema.describe('TTFT p90 at this turn, with its interval'),
  hit_rate: nn.describe('cached prompt tokens / prompt tokens at this turn (fraction); null when the engine does not say'),
});
export const MultiturnReportSchema = z.object({
  turns: z.array(z.number()).describe('the turns present, ascending'),
  systems: z.record(z.string(), z.array(TurnPointSchema)).describe('per system (ComparedSystem.key), one point per turn'),
  vs_baseline: z
    .array(
      z.object({
        system: systemKey('the system compared'),
        baseline: systemKey('the baseline'),
        points: z.array(z.object({ turn: z.number().describe('turn, from 1'), paired: pairedCount, ...ratioOf('TTFT p50 at this turn') })).describe('one per turn'),
      }),
    )
    .describe('each other system\'s TTFT p50 per turn against the baseline\'s'),
});
export const TraceReportSchema = z.object({
  systems: z
    .record(
      z.string(),
      z.object({
        n: z.number().describe('measured trace requests'),
        cdf: z.array(z.tuple([z.number(), z.number()])).describe('TTFT distribution: [ttft_s, cumulative share] pairs, at most 1500'),
        over_time: z.array(z.tuple([z.number(), z.number()])).describe('[scheduled_at_s, ttft_s] in time order, at most 1500'),
      }),
    )
    .describe('per system (ComparedSystem.key)'),
});
export const ScenarioReportsSchema = z.object({
  multiturn: MultiturnReportSchema.nullable().describe('multi-turn runs: TTFT and hit rate by turn; null for other workloads'),
  trace: TraceReportSchema.nullable().describe('trace runs: TTFT distribution and TTFT over time; null for other workloads'),
});

export const ComparisonMethodSchema = z.object({
  pairing: z.string().describe('how requests are paired across runs'),
  bootstrap: z.string().describe('how the intervals are computed'),
  resamples: z.number().describe('bootstrap resamples (query resamples)'),
  seed: z.string().describe('bootstrap seed: the same seed and runs give the same intervals'),
  confidence: z.number().describe('confidence level of every interval (fraction, 0.95)'),
  min_effect: z.number().describe('practical threshold: a difference smaller than this (as a factor − 1) is "no meaningful difference" even when its interval excludes 1'),
  grouping: z.string().describe('how requests are grouped into rows: exact context sizes, or length buckets for trace runs'),
  percentile_method: z.string().describe('how percentiles are computed (the same as every kvbench figure)'),
});

export const ComparisonSchema = z.object({
  baseline: systemKey('the baseline every ratio is taken against'),
  systems: z.array(ComparedSystemSchema).describe('the runs compared, one per system'),
  rows: z.array(ComparisonRowSchema).describe("one row per context size (or length bucket) and phase, then the 'all' row"),
  method: ComparisonMethodSchema.describe('how the comparison was computed'),
  notes: z.array(z.string()).describe('things a reader must know (mixed workloads, excluded requests...)'),
  breakdown: z.array(BreakdownRowSchema).describe('TTFT split into its parts per row, per system'),
  goodput: GoodputReportSchema.nullable().describe('share and rate of requests meeting the objectives; null without slo'),
  hit_rate: z.array(HitRatePredictionSchema).describe('predicted (block-level LRU) against measured cache hit rate, per system'),
  settings: z.array(SettingRowSchema).describe('run metadata side by side, one row per setting; those that differ first'),
  scenarios: ScenarioReportsSchema.describe('views specific to multi-turn and trace workloads'),
}).meta({ id: 'Comparison', examples: [EXAMPLE_COMPARISON] });
