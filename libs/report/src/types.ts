/** The comparison document's types, inferred from its zod schema (schema.ts): one definition for code, API and docs. */
import type { z } from 'zod';
import type { Slo } from './goodput.js';
import type * as S from './schema.js';

export type Phase = z.infer<typeof S.PhaseSchema>;
/** 'all' = every request of the run (all contexts, both phases). */
export type RowPhase = z.infer<typeof S.RowPhaseSchema>;

export interface CompareOptions {
  /** System label, comparison key or run id of the baseline. Default: `pcie` if present, else the first run. */
  baseline?: string;
  /** Bootstrap resamples; at least 1000. */
  resamples?: number;
  seed?: number | string;
  confidence?: number;
  /** Practical threshold (fraction, default 0.05): smaller differences are "no meaningful difference". */
  minEffect?: number;
  /**
   * How rows group requests: 'exact' context sizes, 'pow2' length buckets, or a bucket width in
   * tokens. Default: 'pow2' for trace runs (every request its own length), 'exact' otherwise.
   */
  bucket?: 'exact' | 'pow2' | number;
  /** Objectives for goodput; none: no goodput section. */
  slo?: Slo;
}

export type Percentiles = z.infer<typeof S.PercentilesSchema>;
export type SystemRowStats = z.infer<typeof S.SystemRowStatsSchema>;
export type PairedMetricId = z.infer<typeof S.PairedMetricIdSchema>;
export type RunLevelMetricId = z.infer<typeof S.RunLevelMetricIdSchema>;
export type MetricRatio = z.infer<typeof S.MetricRatioSchema>;
export type Evidence = z.infer<typeof S.EvidenceSchema>;
export type SystemVsBaseline = z.infer<typeof S.SystemVsBaselineSchema>;
export type ComparisonRow = z.infer<typeof S.ComparisonRowSchema>;
export type HostLateness = z.infer<typeof S.HostLatenessSchema>;
export type ComparedSystem = z.infer<typeof S.ComparedSystemSchema>;
export type Comparison = z.infer<typeof S.ComparisonSchema>;
export type BreakdownRow = z.infer<typeof S.BreakdownRowSchema>;
export type GoodputReport = z.infer<typeof S.GoodputReportSchema>;
