/**
 * Newer trtllm-serve builds started with return_perf_metrics run a background
 * collector that drains the iteration-stats queue into Prometheus counters
 * (`/prometheus/metrics`), so `/metrics` can come back empty for kvbench. Those
 * counters carry the same window totals for reuse and bytes moved; this reads
 * them as the fallback. Names are matched by suffix, whatever the prefix
 * (`trtllm_` in current builds); prometheus_client adds `_total` to counters.
 * Only families typed `counter` are used: some builds export gauges that keep
 * only the latest iteration's stat (ENGINES.md), and a gauge's difference is no
 * window total. It is used only when kvbench received no iteration at all (then
 * the collector had every one of them).
 */
import type { LogMetrics } from '@kvbench/common';
import type { PromText } from './prometheus.js';

const SERIES = {
  reused: 'kv_cache_iter_reused_blocks',
  missed: 'kv_cache_iter_missed_blocks',
  offloadBytes: 'kv_cache_offload_bytes',
  onboardBytes: 'kv_cache_onboard_bytes',
} as const;

/** Sum of the series whose name ends with `suffix` or `suffix_total`; null when absent. */
function counter(p: PromText, suffix: string): { value: number; name: string } | null {
  let value = 0;
  let name: string | null = null;
  const isCounter = (name: string) => (p.families.get(name) ?? p.families.get(name.replace(/_total$/, '')))?.type === 'counter';
  for (const s of p.samples) {
    if ((s.name.endsWith(`${suffix}_total`) || s.name.endsWith(suffix)) && isCounter(s.name)) {
      value += s.value;
      name ??= s.name;
    }
  }
  return name === null ? null : { value, name };
}

const delta = (a: PromText, b: PromText, suffix: string) => {
  const x = counter(a, suffix);
  const y = counter(b, suffix);
  return x && y ? { value: y.value - x.value, name: y.name } : null;
};

/** Fill the null fields of `base` from the counters' window deltas, naming the source. */
export function fillFromTrtllmPrometheus(base: LogMetrics, before: PromText, after: PromText): LogMetrics {
  const out: LogMetrics = { ...base, sources: { ...base.sources }, null_reasons: { ...base.null_reasons } };
  const set = (field: keyof LogMetrics & string, value: number, source: string) => {
    if ((out as Record<string, unknown>)[field] !== null && (out as Record<string, unknown>)[field] !== undefined) return;
    (out as Record<string, unknown>)[field] = value;
    out.sources[field] = source;
    delete out.null_reasons[field];
  };
  const reused = delta(before, after, SERIES.reused);
  const missed = delta(before, after, SERIES.missed);
  if (reused) set('reused_blocks', reused.value, `/prometheus/metrics ${reused.name}, end − start of the window`);
  if (reused && missed && reused.value + missed.value > 0) {
    set('cache_hit_rate', reused.value / (reused.value + missed.value), `/prometheus/metrics Δ ${reused.name} / (Δ ${reused.name} + Δ ${missed.name})`);
  }
  const off = delta(before, after, SERIES.offloadBytes);
  const on = delta(before, after, SERIES.onboardBytes);
  if (off) set('offloaded_bytes', off.value, `/prometheus/metrics ${off.name}, end − start of the window`);
  if (on) set('onboarded_bytes', on.value, `/prometheus/metrics ${on.name}, end − start of the window`);
  const noTime = 'the Prometheus counters carry bytes but no transfer time or iteration latency';
  for (const f of ['observed_offload_bandwidth_gbps', 'observed_onboard_bandwidth_gbps'] as const) {
    if (out[f] === null && (off || on)) out.null_reasons[f] = noTime;
  }
  return out;
}
