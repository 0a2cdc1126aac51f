import { percentileOfSorted } from '@kvbench/common';

/** A uniform [0, 1) generator, e.g. seedrandom(seed). */
export type Rng = () => number;

export interface RatioInterval {
  /** Statistic of `other` over statistic of `baseline` on the full paired data; null when undefined (baseline 0, no data). */
  estimate: number | null;
  low: number | null;
  high: number | null;
  /** Resamples whose ratio was defined (baseline statistic non-zero). */
  valid_resamples: number;
}

export interface PairedBootstrapOptions {
  /** Percentiles (0–100) whose ratio is wanted, e.g. [50, 95, 99]. */
  percentiles: readonly number[];
  resamples: number;
  confidence: number;
  rng: Rng;
}

/** Two measurements of the same requests: baseline[i] and other[i] are request i on each system. */
export interface PairedSeries {
  baseline: ArrayLike<number>;
  other: ArrayLike<number>;
}

/** Ratio intervals for one paired series; see pairedBootstrap(). */
export function pairedBootstrapRatios(baseline: ArrayLike<number>, other: ArrayLike<number>, opts: PairedBootstrapOptions): RatioInterval[] {
  return pairedBootstrap([{ baseline, other }], opts)[0]!;
}

/**
 * Paired percentile bootstrap of ratios of percentiles. Each resample draws
 * request indices with replacement and applies the SAME draw to both systems
 * (and to every series, e.g. TTFT and latency), so the interval reflects the
 * pairing: variation between requests cancels out. The interval is the
 * (1-c)/2 and (1+c)/2 percentiles of the resampled ratios, numpy-linear like
 * every other percentile here.
 *
 * A resample is held as a count per request rather than as a new array, and a
 * percentile is read by walking each side's pre-sorted order accumulating
 * counts: O(n) per resample instead of sorting (the resample's order
 * statistics are exactly those of the sorted multiset, so the result is the same).
 */
export function pairedBootstrap(series: readonly PairedSeries[], opts: PairedBootstrapOptions): RatioInterval[][] {
  const { percentiles, resamples, confidence, rng } = opts;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const n = series[0]?.baseline.length ?? 0;
  for (const s of series) {
    if (s.baseline.length !== n || s.other.length !== n) throw new RangeError(`paired arrays differ in length (expected ${n})`);
  }
  if (n === 0) return series.map(() => percentiles.map(() => ({ estimate: null, low: null, high: null, valid_resamples: 0 })));

  // Order statistics each percentile needs: positions lo and lo+1 of the sorted resample.
  const raw = percentiles.map((p) => {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
    const h = ((n - 1) * p) / 100;
    const lo = Math.floor(h);
    return { lo, hi: Math.min(lo + 1, n - 1), frac: h - lo };
  });
  const wanted = [...new Set(raw.flatMap((q) => [q.lo, q.hi]))].sort((a, b) => a - b);
  // Positions as indices into `wanted`, so the hot loop reads a typed array, not a map.
  const positions = raw.map((q) => ({ lo: wanted.indexOf(q.lo), hi: wanted.indexOf(q.hi), frac: q.frac }));
  const sides = series.map((s) => ({ b: prepare(s.baseline), o: prepare(s.other) }));
  const draws = series.map(() => percentiles.map(() => new Float64Array(resamples)));
  const counts = series.map(() => percentiles.map(() => 0));
  const multiplicity = new Uint32Array(n);
  const at = new Float64Array(wanted.length);
  const stat = (side: Prepared, out: number[]) => {
    orderStatistics(side, multiplicity, wanted, at);
    for (let k = 0; k < positions.length; k++) {
      const q = positions[k]!;
      const a = at[q.lo]!;
      out[k] = a + q.frac * (at[q.hi]! - a);
    }
  };
  const bStat: number[] = [];
  const oStat: number[] = [];
  for (let r = 0; r < resamples; r++) {
    multiplicity.fill(0);
    for (let i = 0; i < n; i++) multiplicity[Math.floor(rng() * n)]!++;
    sides.forEach((side, s) => {
      stat(side.b, bStat);
      stat(side.o, oStat);
      for (let k = 0; k < percentiles.length; k++) {
        if (bStat[k] !== 0) draws[s]![k]![counts[s]![k]!++] = oStat[k]! / bStat[k]!;
      }
    });
  }
  const alpha = (1 - confidence) / 2;
  return series.map((s, si) => {
    const sortedB = Float64Array.from(s.baseline).sort();
    const sortedO = Float64Array.from(s.other).sort();
    return percentiles.map((p, k) => {
      const base = percentileOfSorted(sortedB, p)!;
      const valid = draws[si]![k]!.subarray(0, counts[si]![k]!).sort();
      // With fewer than 2 paired requests every resample is the same: no interval to speak of.
      const usable = n >= 2 && valid.length > 0;
      return {
        estimate: base === 0 ? null : percentileOfSorted(sortedO, p)! / base,
        low: usable ? percentileOfSorted(valid, alpha * 100) : null,
        high: usable ? percentileOfSorted(valid, (1 - alpha) * 100) : null,
        valid_resamples: valid.length,
      };
    });
  });
}

interface Prepared {
  values: ArrayLike<number>;
  /** Request indices in ascending order of value. */
  order: Uint32Array;
}

function prepare(values: ArrayLike<number>): Prepared {
  const order = Uint32Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[a]! - values[b]!);
  return { values, order };
}

/** out[w] = value at 0-based sorted position wanted[w] (ascending) of the multiset {values[i] repeated multiplicity[i] times}. */
function orderStatistics(side: Prepared, multiplicity: Uint32Array, wanted: number[], out: Float64Array): void {
  let cum = 0;
  let w = 0;
  for (let k = 0; k < side.order.length && w < wanted.length; k++) {
    const idx = side.order[k]!;
    cum += multiplicity[idx]!;
    while (w < wanted.length && wanted[w]! < cum) out[w++] = side.values[idx]!;
  }
}
