/** The comparison document: what compareRuns returns, GET /compare serves, and the renderers read. */
import type { BreakdownStats, SplitPart } from './breakdown.js';
import type { GoodputStats, Slo } from './goodput.js';
import type { HitRatePrediction } from './hit-rate.js';
import type { ScenarioReports } from './scenarios.js';
import type { SettingRow } from './settings.js';

export type Phase = 'cold' | 'reuse';
/** 'all' = every request of the run (all contexts, both phases). */
export type RowPhase = Phase | 'all';

export interface CompareOptions {
  /** System label, comparison key or run id of the baseline. Default: `pcie` if present, else the first run. */
  baseline?: string;
  /** Bootstrap resamples; at least 1000. */
  resamples?: number;
  seed?: number | string;
  confidence?: number;
  /** Objectives for goodput; none: no goodput section. */
  slo?: Slo;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface SystemRowStats {
  /** Successful requests with both TTFT and latency. */
  n: number;
  /** Requests in this row that failed or lack a timing. */
  n_failed: number;
  ttft_s: Percentiles;
  latency_s: Percentiles;
  /** Run-level figures: filled on the 'all' row only (one value per run, not per context or phase). */
  throughput_req_per_s: number | null;
  cache_hit_rate: number | null;
  offloaded_blocks: number | null;
  onboarded_blocks: number | null;
  offload_bandwidth_gbps: number | null;
}

export type PairedMetricId = 'ttft_p50' | 'ttft_p95' | 'ttft_p99' | 'latency_p50' | 'latency_p95' | 'latency_p99';
export type RunLevelMetricId = 'throughput' | 'cache_hit_rate' | 'offloaded_blocks' | 'onboarded_blocks' | 'offload_bandwidth';

export interface MetricRatio {
  metric: PairedMetricId | RunLevelMetricId;
  /** Human name, e.g. "TTFT p50". */
  name: string;
  /** 'paired': bootstrap over paired requests; 'run-level': one value per run, ratio without interval. */
  kind: 'paired' | 'run-level';
  /** other / baseline. */
  ratio: number | null;
  ci_low: number | null;
  ci_high: number | null;
  /** Interval excludes 1; null without an interval. */
  significant: boolean | null;
  verdict: string;
}

export interface SystemVsBaseline {
  system: string;
  baseline: string;
  /** Requests measured on both sides (the bootstrap's sample). */
  paired: number;
  /** Requests left out of the pairing, and why. */
  unpaired: { baseline_only: number; system_only: number; failed: number };
  metrics: MetricRatio[];
}

export interface ComparisonRow {
  /** null on the 'all' row. */
  context_tokens: number | null;
  phase: RowPhase;
  /** Keyed by ComparedSystem.key. */
  systems: Record<string, SystemRowStats>;
  vs_baseline: SystemVsBaseline[];
}

export interface ComparedSystem {
  /** Unique key: the system label, or label@run_id when one label appears twice. */
  key: string;
  label: string;
  run_id: string | null;
  workload_id: string | null;
  simulated: boolean;
  /** Why a run-level figure is null, as the engine adapter recorded it. */
  null_reasons: Record<string, string>;
}

export interface Comparison {
  baseline: string;
  systems: ComparedSystem[];
  rows: ComparisonRow[];
  method: {
    pairing: string;
    bootstrap: string;
    resamples: number;
    seed: string;
    confidence: number;
    percentile_method: string;
  };
  /** Things a reader must know (mixed workloads, excluded requests...). */
  notes: string[];
  /** TTFT split into its parts per context and phase (and all requests), per system. */
  breakdown: BreakdownRow[];
  /** Requests per second meeting the SLOs; null when none were given. */
  goodput: GoodputReport | null;
  /** Predicted (block-level LRU from the workload) against measured cache hit rate, per system. */
  hit_rate: HitRatePrediction[];
  /** Run metadata as a table: one row per setting, a value per system (in `systems` order). */
  settings: SettingRow[];
  /** Along the scenario's own axis (turn index, trace time), for scenario workloads; nulls otherwise. */
  scenarios: ScenarioReports;
}

export interface BreakdownRow {
  context_tokens: number | null;
  phase: RowPhase;
  systems: Record<string, BreakdownStats>;
  /** Each part's p50, other / baseline, paired over the requests where both runs know the part. */
  vs_baseline: { system: string; baseline: string; parts: { part: SplitPart; paired: number; ratio: number | null; ci_low: number | null; ci_high: number | null }[] }[];
}

export interface GoodputReport {
  slo: Slo;
  /** Whole run, per system. */
  systems: Record<string, GoodputStats>;
  vs_baseline: { system: string; baseline: string; paired: number; ratio: number | null; ci_low: number | null; ci_high: number | null; verdict: string }[];
}
