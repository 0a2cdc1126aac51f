import seedrandom from 'seedrandom';
import { computeAggregate, distribution, PERCENTILE_METHOD, ValidationError, type RunResult, type Sample } from '@kvbench/common';
import { pairedBootstrap, pairedBootstrapRatios } from './bootstrap.js';
import { breakdownStats, SPLIT_PARTS } from './breakdown.js';
import { displayLabel } from './format.js';
import { goodputRatio, goodputStats, sloText } from './goodput.js';
import { predictHitRate } from './hit-rate.js';
import { scenarioReports } from './scenarios.js';
import { runSettings } from './settings.js';
import { isRecord, isSimulated, runIdOf, systemLabelOf, workloadIdOf } from './meta.js';
import { isMeasured, pairByRequestId } from './pairing.js';
import { isFromOriginalTool, originalToolNotes } from './original-tool.js';
import type {
  CompareOptions,
  ComparedSystem,
  BreakdownRow,
  Comparison,
  ComparisonRow,
  GoodputReport,
  MetricRatio,
  Phase,
  RowPhase,
  RunLevelMetricId,
  SystemRowStats,
  SystemVsBaseline,
} from './types.js';
import { DEFAULT_MIN_EFFECT, verdictFor } from './verdict.js';
import { rowEvidence } from './evidence.js';
import { bucketOf, bucketScope, groupingOf, type Bucket, type Grouping } from './buckets.js';

export const DEFAULT_RESAMPLES = 2000;
export const MIN_RESAMPLES = 1000;
const PHASES: readonly Phase[] = ['cold', 'reuse'];
const PAIRED_PERCENTILES = [50, 95, 99] as const;

interface System extends ComparedSystem {
  run: RunResult;
}

const nnum = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const nstr = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Paired comparison of runs of the same workload: each system against the
 * baseline, per context size and phase, plus one row over all requests.
 */
export function compareRuns(runs: readonly RunResult[], options: CompareOptions = {}): Comparison {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  const seed = String(options.seed ?? 1);
  if (!Number.isInteger(resamples) || resamples < MIN_RESAMPLES) {
    throw new ValidationError(`resamples must be an integer of at least ${MIN_RESAMPLES}, got ${resamples}`, 'resamples');
  }
  if (!(confidence > 0 && confidence < 1)) throw new ValidationError(`confidence must be in (0, 1), got ${confidence}`, 'confidence');
  if (runs.length === 0) throw new ValidationError('no runs to compare', 'runs');
  const minEffect = options.minEffect ?? DEFAULT_MIN_EFFECT;
  if (!(minEffect >= 0 && minEffect < 10)) throw new ValidationError(`min_effect must be a fraction of at least 0 (0.05 = 5%), got ${minEffect}`, 'min_effect');

  const systems = describeSystems(runs);
  const baseline = pickBaseline(systems, options.baseline);
  const notes: string[] = originalToolNotes(runs);
  // The original tool records no workload id; its own note says how its requests were paired.
  const workloads = [...new Set(systems.filter((s) => !isFromOriginalTool(s.run)).map((s) => s.workload_id ?? '(unknown)'))];
  if (workloads.length > 1) {
    notes.push(`runs come from different workloads (${workloads.join(', ')}): only request ids present in both runs are paired`);
  }

  const grouping = groupingOf(options.bucket, systems.map((s) => s.run));
  const settings: BootstrapSettings = { resamples, confidence, seed, minEffect };
  const rows: ComparisonRow[] = [];
  const breakdown: BreakdownRow[] = [];
  const addRow = (ctx: number | null, bucket: Bucket | null, phase: RowPhase, select: (s: Sample) => boolean) => {
    const inRow = systems.map((sys) => sys.run.samples.filter(select));
    const bRow: BreakdownRow = {
      context_tokens: ctx,
      phase,
      bucket,
      systems: Object.fromEntries(systems.map((sys, i) => [sys.key, breakdownStats(inRow[i]!)])),
      vs_baseline: systems.flatMap((sys, i) =>
        sys.key === baseline.key ? [] : [{ system: sys.key, baseline: baseline.key, parts: partRatios(inRow[systems.indexOf(baseline)]!, inRow[i]!, `${ctx ?? 'all'}|${bucket ? `${bucket.low}-${bucket.high}` : ''}|${phase}|${baseline.key}|${sys.key}`, settings) }],
      ),
    };
    rows.push(buildRow(systems, baseline, ctx, bucket, phase, inRow, bRow, settings));
    breakdown.push(bRow);
  };
  for (const { ctx, bucket } of groupsOf(systems, grouping)) {
    for (const phase of PHASES) {
      const inGroup = bucket ? (s: Sample) => bucketOf(s.context_tokens, grouping)?.low === bucket.low : (s: Sample) => s.context_tokens === ctx;
      const select = (s: Sample) => inGroup(s) && s.phase === phase;
      if (!systems.some((sys) => sys.run.samples.some(select))) continue;
      addRow(ctx, bucket, phase, select);
    }
  }
  addRow(null, null, 'all', () => true);
  const hostBound = systems.filter((s) => s.host_bound === true);
  if (hostBound.length) {
    notes.push(
      `host-bound: ${hostBound.map((s) => s.key).join(', ')} (run_meta.host_bound): the simulator's host was late enough to shape TTFT, so its timings show the host as much as the modelled hardware; verdicts say so`,
    );
  }

  for (const other of systems) {
    if (other.key === baseline.key) continue;
    const all = rows[rows.length - 1]!.vs_baseline.find((v) => v.system === other.key)!;
    const { baseline_only, system_only, failed } = all.unpaired;
    if (baseline_only + system_only + failed > 0) {
      notes.push(
        `${other.key} vs ${baseline.key}: ${all.paired} requests paired; left out ${baseline_only} measured only on ${baseline.key}, ` +
          `${system_only} only on ${other.key}, ${failed} failed on at least one side`,
      );
    }
  }

  return {
    baseline: baseline.key,
    systems: systems.map(({ run: _run, ...s }) => s),
    rows,
    method: {
      pairing: 'same request_id on both runs; requests not measured on both are excluded and counted',
      bootstrap: 'paired percentile bootstrap: request ids resampled with replacement, same draw on both sides; ratio of percentiles (other / baseline)',
      resamples,
      seed,
      confidence,
      min_effect: minEffect,
      grouping:
        grouping.kind === 'exact'
          ? 'rows by exact context size (prompt tokens) and phase'
          : grouping.kind === 'pow2'
            ? 'rows by power-of-two length buckets of prompt tokens [2^k, 2^(k+1)) and phase'
            : `rows by length buckets of ${grouping.width} prompt tokens and phase`,
      percentile_method: PERCENTILE_METHOD,
    },
    notes,
    breakdown,
    goodput: options.slo ? goodputReport(systems, baseline, options.slo, settings) : null,
    hit_rate: systems.map((sys) => predictHitRate(sys.key, sys.run)),
    settings: runSettings(systems.map((s) => s.run)),
    scenarios: scenarioReports(systems.map((s) => ({ key: s.key, samples: s.run.samples })), baseline.key, { resamples, confidence, seed }),
  };
}

/** Each breakdown part's p50 ratio, paired by request id over the requests where both sides know it. */
function partRatios(base: Sample[], other: Sample[], scope: string, s: BootstrapSettings): BreakdownRow['vs_baseline'][number]['parts'] {
  const o = new Map(other.map((x) => [x.request_id, x]));
  return SPLIT_PARTS.map((part) => {
    const b: number[] = [];
    const v: number[] = [];
    for (const x of base) {
      const y = o.get(x.request_id);
      const bv = x.breakdown?.[part];
      const ov = y?.breakdown?.[part];
      if (typeof bv === 'number' && Number.isFinite(bv) && typeof ov === 'number' && Number.isFinite(ov)) (b.push(bv), v.push(ov));
    }
    if (b.length === 0) return { part, paired: 0, ratio: null, ci_low: null, ci_high: null };
    const rng = seedrandom.alea(`${s.seed}|part|${part}|${scope}`);
    const [iv] = pairedBootstrapRatios(b, v, { percentiles: [50], resamples: s.resamples, confidence: s.confidence, rng });
    return { part, paired: b.length, ratio: iv!.estimate, ci_low: iv!.low, ci_high: iv!.high };
  });
}

function goodputReport(systems: System[], baseline: System, slo: NonNullable<CompareOptions['slo']>, settings: BootstrapSettings): GoodputReport {
  const level = `${Math.round(settings.confidence * 1000) / 10}%`;
  return {
    slo,
    systems: Object.fromEntries(systems.map((s) => [s.key, goodputStats(s.run.samples, slo)])),
    vs_baseline: systems
      .filter((s) => s.key !== baseline.key)
      .map((other) => {
        const rng = seedrandom.alea(`${settings.seed}|goodput|${sloText(slo)}|${baseline.key}|${other.key}`);
        const r = goodputRatio(baseline.run.samples, other.run.samples, slo, { resamples: settings.resamples, confidence: settings.confidence, rng });
        const f = (v: number | null) => (v === null ? '-' : v.toFixed(2));
        const verdict =
          r.ratio === null
            ? `goodput at ${sloText(slo)}: no ratio (${r.paired === 0 ? 'no request on both runs' : 'no baseline request met the SLO'})`
            : `goodput at ${sloText(slo)}: ${displayLabel(other.key)} / ${displayLabel(baseline.key)} = ${f(r.ratio)}${r.ci_low !== null ? ` [${f(r.ci_low)}–${f(r.ci_high)}] (${level} paired bootstrap over ${r.paired} requests)` : ''}`;
        return { system: other.key, baseline: baseline.key, ...r, verdict };
      }),
  };
}

function describeSystems(runs: readonly RunResult[]): System[] {
  const labels = runs.map((r, i) => systemLabelOf(r) ?? `run${i + 1}`);
  return runs.map((run, i) => {
    const label = labels[i]!;
    const duplicate = labels.filter((l) => l === label).length > 1;
    const runId = runIdOf(run);
    const lm = run.log_metrics as { null_reasons?: unknown } | undefined;
    const meta = run.run_meta as Record<string, unknown> | undefined;
    const clock = meta?.['clock'];
    const lateness = isRecord(meta?.['host_lateness']) ? (meta['host_lateness'] as Record<string, unknown>) : null;
    return {
      key: duplicate ? `${label}@${runId ?? i + 1}` : label,
      label,
      run_id: runId,
      workload_id: workloadIdOf(run),
      simulated: isSimulated(run),
      // run_meta.clock is "real" | "virtual" from the simulator's clock (issue 20); older runs carry an object there (the wall-clock offset, now run_meta.clock_offset) or nothing.
      clock: clock === 'real' || clock === 'virtual' ? clock : null,
      host_bound: typeof meta?.['host_bound'] === 'boolean' ? (meta['host_bound'] as boolean) : null,
      host_lateness: lateness
        ? {
            p50_ms: nnum(lateness['p50_ms']),
            p99_ms: nnum(lateness['p99_ms']),
            max_ms: nnum(lateness['max_ms']),
            share_of_ttft_p50: nnum(lateness['share_of_ttft_p50']),
            threshold_share: nnum(lateness['threshold_share']),
            reason: nstr(lateness['reason']),
          }
        : null,
      null_reasons: isRecord(lm?.null_reasons) ? (lm.null_reasons as Record<string, string>) : {},
      run,
    };
  });
}

function pickBaseline(systems: System[], wanted: string | undefined): System {
  if (wanted === undefined || wanted === '') return systems.find((s) => s.key === 'pcie') ?? systems[0]!;
  const found =
    systems.find((s) => s.key === wanted) ?? systems.find((s) => s.run_id === wanted) ?? systems.find((s) => s.label === wanted);
  if (!found) {
    throw new ValidationError(`baseline '${wanted}' is none of the compared systems (${systems.map((s) => s.key).join(', ')})`, 'baseline');
  }
  return found;
}

/** The row groups: each exact context size, or each length bucket that holds a request. */
function groupsOf(systems: System[], grouping: Grouping): { ctx: number; bucket: Bucket | null }[] {
  const set = new Set<number>();
  for (const s of systems) for (const sample of s.run.samples) set.add(sample.context_tokens);
  const sizes = [...set].sort((a, b) => a - b);
  if (grouping.kind === 'exact') return sizes.map((ctx) => ({ ctx, bucket: null }));
  const buckets = new Map<number, Bucket>();
  for (const n of sizes) {
    const b = bucketOf(n, grouping)!;
    buckets.set(b.low, b);
  }
  return [...buckets.values()].map((bucket) => ({ ctx: bucket.low, bucket }));
}

interface BootstrapSettings {
  resamples: number;
  confidence: number;
  seed: string;
  minEffect: number;
}

function buildRow(
  systems: System[],
  baseline: System,
  ctx: number | null,
  bucket: Bucket | null,
  phase: RowPhase,
  samples: Sample[][],
  breakdown: BreakdownRow,
  settings: BootstrapSettings,
): ComparisonRow {
  const inRow = new Map(systems.map((s, i) => [s.key, samples[i]!]));
  const stats: Record<string, SystemRowStats> = {};
  for (const s of systems) stats[s.key] = rowStats(s.run, inRow.get(s.key)!, phase === 'all');
  const vs: SystemVsBaseline[] = [];
  for (const other of systems) {
    if (other.key === baseline.key) continue;
    vs.push(againstBaseline(other, baseline, inRow.get(other.key)!, inRow.get(baseline.key)!, ctx, bucket, phase, stats, breakdown, settings));
  }
  return { context_tokens: ctx, phase, bucket, systems: stats, vs_baseline: vs };
}

function rowStats(run: RunResult, samples: Sample[], runLevel: boolean): SystemRowStats {
  const measured = samples.filter(isMeasured);
  const ttft = distribution(measured.map((s) => s.ttft_s));
  const latency = distribution(measured.map((s) => s.latency_s));
  const lm = run.log_metrics;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    n: measured.length,
    n_failed: samples.length - measured.length,
    ttft_s: { p50: ttft.p50, p95: ttft.p95, p99: ttft.p99 },
    latency_s: { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
    throughput_req_per_s: runLevel ? (num(run.aggregate?.throughput_req_per_s) ?? computeAggregate(run.samples).throughput_req_per_s) : null,
    cache_hit_rate: runLevel ? num(lm?.cache_hit_rate) : null,
    offloaded_blocks: runLevel ? num(lm?.offloaded_blocks) : null,
    onboarded_blocks: runLevel ? num(lm?.onboarded_blocks) : null,
    offload_bandwidth_gbps: runLevel ? num(lm?.observed_offload_bandwidth_gbps) : null,
  };
}

function againstBaseline(
  other: System,
  baseline: System,
  otherSamples: Sample[],
  baselineSamples: Sample[],
  ctx: number | null,
  bucket: Bucket | null,
  phase: RowPhase,
  stats: Record<string, SystemRowStats>,
  breakdown: BreakdownRow,
  { resamples, confidence, seed, minEffect }: BootstrapSettings,
): SystemVsBaseline {
  const pairs = pairByRequestId(baselineSamples, otherSamples);
  const metrics: MetricRatio[] = [];
  const hostBound = baseline.host_bound === true || other.host_bound === true;
  const scope = {
    context_tokens: ctx,
    phase,
    confidence,
    system: other.key,
    baseline: baseline.key,
    minEffect,
    hostBound,
    ...(bucket ? { scope: bucketScope(bucket, phase) } : {}),
  };
  // One independent stream per (row, pair of systems): a row's interval does not depend on which other rows exist.
  // Alea: seedrandom's fast generator; the bootstrap draws n × resamples numbers per row.
  const rng = seedrandom.alea(`${seed}|${bucket ? `${bucket.low}-${bucket.high}` : (ctx ?? 'all')}|${phase}|${baseline.key}|${other.key}`);
  const fields = ['ttft_s', 'latency_s'] as const;
  const intervals = pairedBootstrap(
    fields.map((f) => ({ baseline: pairs.baseline[f], other: pairs.other[f] })),
    { percentiles: PAIRED_PERCENTILES, resamples, confidence, rng },
  );
  const reason =
    pairs.request_ids.length === 0 ? 'no request measured on both' : pairs.request_ids.length < 2 ? 'fewer than 2 paired requests' : 'baseline value is 0';
  fields.forEach((field, fi) => {
    const short = field === 'ttft_s' ? 'ttft' : 'latency';
    PAIRED_PERCENTILES.forEach((p, k) => {
      const iv = intervals[fi]![k]!;
      const name = `${field === 'ttft_s' ? 'TTFT' : 'latency'} p${p}`;
      // A percentile bootstrap of a tail quantile is only as good as the requests beyond it: with
      // fewer than TAIL_EXCEEDANCES of them the resampled p95/p99 is a handful of repeated values.
      const needed = minPairsFor(p);
      const tooFew = pairs.request_ids.length >= 2 && pairs.request_ids.length < needed;
      const ci = !tooFew && iv.low !== null && iv.high !== null ? ([iv.low, iv.high] as const) : null;
      const why = tooFew ? `too few requests for a p${p} interval: ${pairs.request_ids.length} paired, needs ${needed}` : reason;
      const v = verdictFor({ ...scope, metricName: name, ratio: iv.estimate, ci, reason: why, paired: true });
      metrics.push({
        metric: `${short}_p${p}` as MetricRatio['metric'],
        name,
        kind: 'paired',
        ratio: iv.estimate,
        ci_low: ci ? iv.low : null,
        ci_high: ci ? iv.high : null,
        significant: v.significant,
        effect: v.effect,
        meaningful: v.meaningful,
        verdict: v.text,
      });
    });
  });
  if (phase === 'all') metrics.push(...runLevelRatios(stats[other.key]!, stats[baseline.key]!, scope));
  const evidence = rowEvidence(
    { key: baseline.key, run: baseline.run, samples: baselineSamples, hostBound: baseline.host_bound === true },
    { key: other.key, run: other.run, samples: otherSamples, hostBound: other.host_bound === true },
    breakdown,
    phase === 'all',
    minEffect,
  );
  return {
    system: other.key,
    baseline: baseline.key,
    paired: pairs.request_ids.length,
    unpaired: { baseline_only: pairs.baseline_only, system_only: pairs.other_only, failed: pairs.failed },
    metrics,
    evidence,
  };
}

/** Requests beyond a tail percentile the bootstrap needs for an interval: n × (1 − p) ≥ 5 (p95: 100 requests, p99: 500). */
export const TAIL_EXCEEDANCES = 5;
export function minPairsFor(percentile: number): number {
  return percentile <= 50 ? 2 : Math.ceil(TAIL_EXCEEDANCES / (1 - percentile / 100) - 1e-9);
}

const RUN_LEVEL: { id: RunLevelMetricId; name: string; field: keyof SystemRowStats }[] = [
  { id: 'throughput', name: 'throughput', field: 'throughput_req_per_s' },
  { id: 'cache_hit_rate', name: 'cache hit rate', field: 'cache_hit_rate' },
  { id: 'offloaded_blocks', name: 'offloaded blocks', field: 'offloaded_blocks' },
  { id: 'onboarded_blocks', name: 'onboarded blocks', field: 'onboarded_blocks' },
  { id: 'offload_bandwidth', name: 'offload bandwidth', field: 'offload_bandwidth_gbps' },
];

/**
 * Figures the engine reports once per run have no per-request sample to
 * resample, so one run gives a ratio but no interval; the verdict says so.
 */
function runLevelRatios(
  other: SystemRowStats,
  base: SystemRowStats,
  scope: { context_tokens: number | null; phase: RowPhase; confidence: number; system: string; baseline: string; minEffect: number; hostBound: boolean },
): MetricRatio[] {
  return RUN_LEVEL.map(({ id, name, field }) => {
    const o = other[field] as number | null;
    const b = base[field] as number | null;
    const ratio = o !== null && b !== null && b !== 0 ? o / b : o !== null && b === 0 && o === 0 ? 1 : null;
    const reason =
      o === null || b === null ? 'not reported by the engine' : b === 0 ? 'baseline value is 0' : 'run-level figure, one value per run: no interval';
    const v = verdictFor({ ...scope, metricName: name, ratio, ci: null, reason });
    return { metric: id, name, kind: 'run-level', ratio, ci_low: null, ci_high: null, significant: null, effect: v.effect, meaningful: null, verdict: v.text };
  });
}
