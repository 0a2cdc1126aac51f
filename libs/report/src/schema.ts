/**
 * The comparison document, defined once: what compareRuns returns, GET /compare serves (the
 * aggregator's route and its OpenAPI use these schemas) and the renderers read. The TypeScript
 * types in types.ts and the report modules are inferred from here.
 */
import { z } from 'zod';

const nn = z.number().nullable();
const reasons = z.record(z.string(), z.string());

/** The parts of TTFT drawn: the top-level ones, with first_token split where the engine says how (the simulator). */
export const SPLIT_PARTS = ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'onboard_s', 'prefill_s', 'batch_other_s', 'first_token_s', 'to_client_s'] as const;
export const SplitPartSchema = z.enum(SPLIT_PARTS);

export const PhaseSchema = z.enum(['cold', 'reuse']);
/** 'all' = every request of the run (all contexts, both phases). */
export const RowPhaseSchema = z.enum(['cold', 'reuse', 'all']);

export const PercentilesSchema = z.object({ p50: nn, p95: nn, p99: nn });

export const SystemRowStatsSchema = z.object({
  n: z.number().describe('successful requests with both TTFT and latency'),
  n_failed: z.number().describe('requests in this row that failed or lack a timing'),
  ttft_s: PercentilesSchema,
  latency_s: PercentilesSchema,
  throughput_req_per_s: nn.describe("run-level: filled on the 'all' row only"),
  cache_hit_rate: nn,
  offloaded_blocks: nn,
  onboarded_blocks: nn,
  offload_bandwidth_gbps: nn,
});

export const PairedMetricIdSchema = z.enum(['ttft_p50', 'ttft_p95', 'ttft_p99', 'latency_p50', 'latency_p95', 'latency_p99']);
export const RunLevelMetricIdSchema = z.enum(['throughput', 'cache_hit_rate', 'offloaded_blocks', 'onboarded_blocks', 'offload_bandwidth']);

export const MetricRatioSchema = z.object({
  metric: z.union([PairedMetricIdSchema, RunLevelMetricIdSchema]),
  name: z.string().describe('human name, e.g. "TTFT p50"'),
  kind: z.enum(['paired', 'run-level']).describe("'paired': bootstrap over paired requests; 'run-level': one value per run, ratio without interval"),
  ratio: nn.describe('other / baseline'),
  ci_low: nn,
  ci_high: nn,
  significant: z.boolean().nullable().describe('the interval excludes 1 (no change); null without an interval'),
  /** Effect as a factor − 1: max(ratio, 1/ratio) − 1; 0.05 = 5%. */
  effect: nn.describe('size of the difference: max(ratio, 1/ratio) − 1 (0.05 = 5%)'),
  meaningful: z
    .boolean()
    .nullable()
    .describe('a difference is called: the interval excludes 1 AND the effect is at least method.min_effect; null without an interval'),
  verdict: z.string(),
});

/** What decides a row's verdict: where each side's KV came from, what the link allows, which TTFT parts differ. */
export const EvidenceSchema = z.object({
  requests: z.object({ baseline: z.number(), system: z.number() }).describe('measured requests in the row on each side'),
  requests_reloaded: z.object({ baseline: nn, system: nn }).describe('requests that onboarded KV from the host tier (sample.tokens.host_onboarded > 0); null when the engine does not say'),
  onboarded_blocks: z.object({ baseline: nn, system: nn }).describe('KV blocks onboarded host → GPU by the row\'s requests (per-request token tiers; the run\'s counters on the all-requests row)'),
  onboarded_source: z.string(),
  link_bound_s: z
    .object({ baseline: nn, system: nn })
    .describe(
      "the least time each side's link needs for the same KV: link_bound_basis.kv_tokens of KV (its bytes from kv_pools) over that side's host→GPU bandwidth; null with the reason in null_reasons",
    ),
  link_bound_source: z
    .object({ baseline: z.string().nullable(), system: z.string().nullable() })
    .describe("where each side's host→GPU bandwidth came from: measured by the engine, the link check at the block size, or the simulator profile"),
  link_bound_basis: z
    .object({
      requests: z.number().int().describe('requests measured on both sides that reloaded KV from the host on either side'),
      kv_tokens: nn.describe("median over those requests of the KV tokens reloaded (per request, the larger of the two sides' host_onboarded); null when none"),
    })
    .describe('the one request set both link bounds are computed over, so they differ by the links alone'),
  link_exercised: z.boolean().nullable().describe('some request reloaded from the host on either side; null when neither engine says'),
  parts: z
    .array(z.object({ part: SplitPartSchema, name: z.string(), baseline_p50_s: nn, system_p50_s: nn, ratio: nn, ci_low: nn, ci_high: nn }))
    .describe('TTFT parts whose paired p50 ratio is a meaningful difference (interval excludes 1, effect ≥ min_effect)'),
  host_bound: z.boolean().describe('either side\'s run_meta.host_bound is true: the host, not the modelled hardware, set its pace'),
  text: z.string(),
  null_reasons: reasons,
});

export const SystemVsBaselineSchema = z.object({
  system: z.string(),
  baseline: z.string(),
  paired: z.number().describe("requests measured on both sides (the bootstrap's sample)"),
  unpaired: z.object({ baseline_only: z.number(), system_only: z.number(), failed: z.number() }),
  metrics: z.array(MetricRatioSchema),
  evidence: EvidenceSchema,
});

export const ComparisonRowSchema = z.object({
  context_tokens: nn.describe("null on the 'all' row"),
  phase: RowPhaseSchema,
  /** Length bucket of a trace run (prompt tokens in [low, high)); null for exact context sizes. */
  bucket: z.object({ low: z.number(), high: z.number() }).nullable().describe('for trace runs: the length bucket [low, high) of prompt tokens this row groups; context_tokens is then its low end'),
  systems: z.record(z.string(), SystemRowStatsSchema).describe('keyed by ComparedSystem.key'),
  vs_baseline: z.array(SystemVsBaselineSchema),
});

export const HostLatenessSchema = z.object({
  p50_ms: nn,
  p99_ms: nn,
  max_ms: nn,
  share_of_ttft_p50: nn,
  threshold_share: nn,
  reason: z.string().nullable(),
});

export const ComparedSystemSchema = z.object({
  key: z.string().describe('unique key: the system label, or label@run_id when one label appears twice'),
  label: z.string(),
  run_id: z.string().nullable(),
  workload_id: z.string().nullable(),
  simulated: z.boolean(),
  clock: z.enum(['real', 'virtual']).nullable().describe('run_meta.clock: the simulator\'s real or virtual clock; null when not recorded'),
  host_bound: z.boolean().nullable().describe('run_meta.host_bound: the host was late enough to shape TTFT; null when not a simulator run or not measurable'),
  host_lateness: HostLatenessSchema.nullable(),
  null_reasons: reasons.describe('why a run-level figure is null, as the engine adapter recorded it'),
});

export const BreakdownStatsSchema = z.object({
  n: z.number().describe('requests measured (ok with TTFT)'),
  n_complete: z.number().describe('requests whose five parts are all known'),
  ttft_p50_s: nn,
  part_p50_s: z.partialRecord(SplitPartSchema, nn).describe('each part\'s p50 over the requests where it is known'),
  median_split: z
    .object({ n: z.number(), ttft_mean_s: nn, parts: z.array(z.object({ part: SplitPartSchema, seconds: z.number() })) })
    .nullable()
    .describe('the split of the p50: mean parts of the requests in the p40–p60 TTFT band (complete ones only)'),
  null_reasons: z.partialRecord(SplitPartSchema, z.string()),
});

export const PartRatioSchema = z.object({ part: SplitPartSchema, paired: z.number(), ratio: nn, ci_low: nn, ci_high: nn });

export const BreakdownRowSchema = z.object({
  context_tokens: nn,
  phase: RowPhaseSchema,
  bucket: z.object({ low: z.number(), high: z.number() }).nullable(),
  systems: z.record(z.string(), BreakdownStatsSchema),
  vs_baseline: z.array(z.object({ system: z.string(), baseline: z.string(), parts: z.array(PartRatioSchema) })),
});

export const SloSchema = z.object({ ttft_ms: z.number().optional(), latency_ms: z.number().optional() });
export const GoodputStatsSchema = z.object({ requests: z.number(), met: z.number(), share: nn, window_s: z.number(), goodput_req_per_s: nn });
export const GoodputReportSchema = z.object({
  slo: SloSchema,
  systems: z.record(z.string(), GoodputStatsSchema),
  vs_baseline: z.array(z.object({ system: z.string(), baseline: z.string(), paired: z.number(), ratio: nn, ci_low: nn, ci_high: nn, verdict: z.string() })),
});

export const KvPoolsSchema = z.object({
  tokens_per_block: z.number(),
  gpu_blocks: z.number(),
  host_blocks: nn.describe("null when the host cache's size in blocks is unknown"),
  source: z.string(),
  null_reasons: reasons,
});
export const LruResultSchema = z.object({ lookups: z.number(), gpu_hits: z.number(), host_hits: z.number(), hit_rate: nn, gpu_hit_rate: nn });
export const HitRatePredictionSchema = z.object({
  system: z.string(),
  pools: KvPoolsSchema.nullable(),
  model: z.string().describe('how the requests\' blocks were known: the workload\'s structure, or a trace\'s own hash_ids'),
  gpu_only: LruResultSchema.nullable().describe('LRU with the GPU pool only; null = not modelled (reason in null_reasons)'),
  gpu_and_host: LruResultSchema.nullable().describe('LRU with the host cache behind the GPU pool; null = not modelled'),
  infinite: LruResultSchema.nullable().describe('every repeat a hit: the workload\'s own reuse; null = not modelled'),
  measured: nn,
  difference: nn.describe('measured − predicted (gpu_and_host), in fraction points'),
  disagrees: z.boolean().nullable(),
  note: z.string(),
  null_reasons: reasons,
});

export const SettingRowSchema = z.object({
  setting: z.string().describe('dotted path into run_meta, e.g. "kv_config.host_cache_gb"'),
  values: z.array(z.string().nullable()),
  differs: z.boolean(),
  identity: z.boolean(),
});

export const BandSchema = z.object({ value: nn, low: nn, high: nn });
export const TurnPointSchema = z.object({ turn: z.number(), n: z.number(), ttft_p50_s: BandSchema, ttft_p90_s: BandSchema, hit_rate: nn });
export const MultiturnReportSchema = z.object({
  turns: z.array(z.number()),
  systems: z.record(z.string(), z.array(TurnPointSchema)),
  vs_baseline: z.array(
    z.object({ system: z.string(), baseline: z.string(), points: z.array(z.object({ turn: z.number(), paired: z.number(), ratio: nn, ci_low: nn, ci_high: nn })) }),
  ),
});
export const TraceReportSchema = z.object({
  systems: z.record(z.string(), z.object({ n: z.number(), cdf: z.array(z.tuple([z.number(), z.number()])), over_time: z.array(z.tuple([z.number(), z.number()])) })),
});
export const ScenarioReportsSchema = z.object({ multiturn: MultiturnReportSchema.nullable(), trace: TraceReportSchema.nullable() });

export const ComparisonMethodSchema = z.object({
  pairing: z.string(),
  bootstrap: z.string(),
  resamples: z.number(),
  seed: z.string(),
  confidence: z.number(),
  min_effect: z.number().describe('practical threshold: a difference smaller than this (as a factor − 1) is "no meaningful difference" even when its interval excludes 1'),
  grouping: z.string().describe('how requests are grouped into rows: exact context sizes, or length buckets for trace runs'),
  percentile_method: z.string(),
});

export const ComparisonSchema = z.object({
  baseline: z.string(),
  systems: z.array(ComparedSystemSchema),
  rows: z.array(ComparisonRowSchema),
  method: ComparisonMethodSchema,
  notes: z.array(z.string()).describe('things a reader must know (mixed workloads, excluded requests...)'),
  breakdown: z.array(BreakdownRowSchema).describe('TTFT split into its parts per row, per system'),
  goodput: GoodputReportSchema.nullable(),
  hit_rate: z.array(HitRatePredictionSchema).describe('predicted (block-level LRU) against measured cache hit rate, per system'),
  settings: z.array(SettingRowSchema),
  scenarios: ScenarioReportsSchema,
});
