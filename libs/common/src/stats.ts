/**
 * Statistics used everywhere results are computed. One percentile method only:
 * linear interpolation between order statistics, numpy's default
 * (`numpy.percentile(..., method="linear")`). Recorded in run_meta as
 * PERCENTILE_METHOD.
 */
export const PERCENTILE_METHOD = 'linear (numpy default): h = (n-1)*p/100, interpolate between order statistics';

/** Percentile p in [0, 100] of values; null for an empty list. Does not mutate input. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  return percentileOfSorted(Float64Array.from(values).sort(), p);
}

/** Same as percentile() for data already sorted ascending (avoids re-sorting for p50/p95/p99). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (h - lo) * (b - a);
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Completed requests per second over the window [start, end] (seconds). */
export function throughput(count: number, windowSeconds: number): number | null {
  if (count === 0 || !(windowSeconds > 0)) return null;
  return count / windowSeconds;
}

export interface Distribution {
  n: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    mean: mean(values),
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    min: sorted.length ? sorted[0]! : null,
    max: sorted.length ? sorted[sorted.length - 1]! : null,
  };
}
