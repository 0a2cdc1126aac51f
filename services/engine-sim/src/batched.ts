/**
 * Pricing of an iteration that holds several requests, from the probe's measured batched passes
 * (profile `compute.batched`, libs/probe `batched` section): one forward pass reads every weight
 * once however many rows it holds, so k short chunks cost far less than k passes.
 *
 * - Chunks: R(n, k) = t(k chunks of n tokens in one pass) / (k × t(one chunk of n)), measured on a
 *   grid of n and k, interpolated bilinearly in (log n, log k) and held at the grid's edges. An
 *   iteration's chunks cost R(n̄, k) × the sum of their own times (each from the cached-prefix
 *   table, so a chunk over a long cached prefix keeps its attention cost), n̄ their mean length.
 * - Chunks with decodes: M(n, B, C) = t(chunk of n + B decodes at context C) / (t(chunk) + t(B
 *   decodes alone)), interpolated in (log n, log B, log C) the same way; the iteration costs
 *   M × (chunks' cost + the decode step's cost).
 * Neither ratio is allowed above 1 (a pass is never dearer than its parts run apart).
 */
import type { BatchedTable } from '@kvbench/hardware';

type Grid1 = Array<[number, number]>;

/** Linear interpolation in log x over sorted [x, y] points, held at the ends. */
function interpLog(points: Grid1, x: number): number {
  if (points.length === 1 || x <= points[0]![0]) return points[0]![1];
  const last = points[points.length - 1]!;
  if (x >= last[0]) return last[1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    if (x <= x1) {
      const [x0, y0] = points[i - 1]!;
      const f = (Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0));
      return y0 + f * (y1 - y0);
    }
  }
  return last[1];
}

/** Interpolate over nested axes: rows keyed by the first coordinate, each a function of the rest. */
function interpNested<T>(rows: Array<[number, T]>, x: number, inner: (t: T) => number): number {
  return interpLog(rows.map(([k, t]) => [k, inner(t)] as [number, number]), x);
}

export class BatchedPricing {
  /** n → [[k, R]] */
  private readonly chunkRatio: Array<[number, Grid1]>;
  /** n → B → [[C, M]] */
  private readonly mixedRatio: Array<[number, Array<[number, Grid1]>]>;

  constructor(readonly table: BatchedTable) {
    const alone = new Map<number, number>();
    for (const [n, k, t] of table.chunks) if (k === 1) alone.set(n, t);
    const byN = new Map<number, Grid1>();
    for (const [n, k, t] of table.chunks) {
      const one = alone.get(n);
      if (one === undefined) continue;
      if (!byN.has(n)) byN.set(n, []);
      byN.get(n)!.push([k, Math.min(1, t / (k * one))]);
    }
    this.chunkRatio = [...byN.entries()].sort((a, b) => a[0] - b[0]).map(([n, g]) => [n, g.sort((a, b) => a[0] - b[0])]);

    const decAlone = new Map<string, number>();
    for (const [n, B, C, t] of table.mixed) if (n === 0) decAlone.set(`${B}x${C}`, t);
    const m = new Map<number, Map<number, Grid1>>();
    for (const [n, B, C, t] of table.mixed) {
      if (n === 0) continue;
      const dec = decAlone.get(`${B}x${C}`);
      const chunk = alone.get(n);
      if (dec === undefined || chunk === undefined) continue;
      if (!m.has(n)) m.set(n, new Map());
      const byB = m.get(n)!;
      if (!byB.has(B)) byB.set(B, []);
      byB.get(B)!.push([C, Math.min(1, t / (chunk + dec))]);
    }
    this.mixedRatio = [...m.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([n, byB]) => [n, [...byB.entries()].sort((a, b) => a[0] - b[0]).map(([B, g]) => [B, g.sort((a, b) => a[0] - b[0])] as [number, Grid1])]);
  }

  /** R(n̄, k): the share of the chunks' summed time one pass holding k of them takes. */
  chunksRatio(meanTokens: number, k: number): number {
    if (k <= 1 || this.chunkRatio.length === 0) return 1;
    return interpNested(this.chunkRatio, meanTokens, (g) => interpLog(g, k));
  }

  /** M(n, B, C): a pass of chunks (n tokens in all) with B decodes at mean context C over the two apart. */
  mixedRatioAt(chunkTokens: number, decodes: number, context: number): number {
    if (decodes <= 0 || chunkTokens <= 0 || this.mixedRatio.length === 0) return 1;
    return interpNested(this.mixedRatio, chunkTokens, (byB) => interpNested(byB, decodes, (g) => interpLog(g, Math.max(1, context))));
  }
}
