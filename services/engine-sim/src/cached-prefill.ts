/**
 * Prefill time of N new tokens on top of C cached ones, from a measured `[C, N, seconds]` table
 * (profile `compute.prefill_cached`, written by the GPU probe's cached_prefill section).
 *
 * The table is read as rows of equal N. Within a row, time is interpolated linearly in C: the only
 * part of the pass that depends on C is attention of the N new tokens over the C cached ones, which
 * is linear in C. Between two points the line goes through both, so a measured point comes back
 * as measured. Past a row's last C it is extrapolated with the slope of its last two points (never
 * falling); a
 * row with one point borrows the per-new-token slope of the nearest row below it that has two.
 * Between rows, time is interpolated in log-log (a power law between the two Ns): the pass goes
 * from a weight-bound floor at small N (every weight read once, whatever N) to linear and then
 * quadratic growth, which straight lines between far-apart Ns would overstate. Below the smallest
 * N the smallest row holds (the weight-bound floor); past the largest N the pass is split into
 * chunks of the largest N, each over everything before it, as chunked prefill would run it.
 */
import type { CachedPrefillTable } from './profile.js';

interface Row {
  n: number;
  /** `[cached, seconds]`, sorted by cached. */
  points: Array<[number, number]>;
}

export class CachedPrefillGrid {
  private readonly rows: Row[];

  constructor(table: Pick<CachedPrefillTable, 'points'>) {
    const byN = new Map<number, Array<[number, number]>>();
    for (const [c, n, s] of table.points) byN.set(n, [...(byN.get(n) ?? []), [c, s]]);
    this.rows = [...byN.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([n, points]) => ({ n, points: points.sort((a, b) => a[0] - b[0]) }));
  }

  /** Seconds for `newTokens` new tokens after `cachedTokens` cached ones (0 when nothing is new). */
  seconds(cachedTokens: number, newTokens: number): number {
    if (newTokens <= 0) return 0;
    const last = this.rows[this.rows.length - 1]!;
    if (newTokens > last.n) {
      // Whole chunks of the largest measured N, then the rest.
      let t = 0;
      let c = cachedTokens;
      let left = newTokens;
      while (left > last.n) {
        t += this.rowAt(this.rows.length - 1, c);
        c += last.n;
        left -= last.n;
      }
      return t + this.seconds(c, left);
    }
    const i = this.rows.findIndex((r) => r.n >= newTokens);
    if (this.rows[i]!.n === newTokens || i === 0) return this.rowAt(i, cachedTokens);
    const r0 = this.rows[i - 1]!, r1 = this.rows[i]!;
    const t0 = this.rowAt(i - 1, cachedTokens), t1 = this.rowAt(i, cachedTokens);
    const f = Math.log(newTokens / r0.n) / Math.log(r1.n / r0.n);
    return t0 * (t1 / t0) ** f;
  }

  /** Row i at `c` cached tokens: linear in c, extrapolated past the ends. */
  private rowAt(i: number, c: number): number {
    const row = this.rows[i]!;
    const p = row.points;
    if (p.length === 1) {
      const [c0, t0] = p[0]!;
      return Math.max(t0 + (c - c0) * this.borrowedSlope(i), t0 * 1e-3);
    }
    let k = p.findIndex(([x]) => x >= c);
    const inside = k > 0;
    if (k === -1) k = p.length - 1; // past the last point: the last segment
    else if (k === 0) k = 1; // before the first point: the first segment
    const [xa, ya] = p[k - 1]!, [xb, yb] = p[k]!;
    // Through both points inside the table (measurement noise included); never falling outside it.
    const slope = inside ? (yb - ya) / (xb - xa) : Math.max(0, (yb - ya) / (xb - xa));
    return Math.max(ya + (c - xa) * slope, ya * 1e-3);
  }

  /** Slope in c for a one-point row: the nearest row below with two points, per new token, times this N. */
  private borrowedSlope(i: number): number {
    for (let j = i - 1; j >= 0; j--) {
      const r = this.rows[j]!;
      if (r.points.length < 2) continue;
      const [xa, ya] = r.points[r.points.length - 2]!, [xb, yb] = r.points[r.points.length - 1]!;
      return (Math.max(0, (yb - ya) / (xb - xa)) / r.n) * this.rows[i]!.n;
    }
    return 0;
  }
}
