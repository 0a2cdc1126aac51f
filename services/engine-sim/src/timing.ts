/**
 * Time model: prefill and decode from the profile's compute part, KV transfers from its link part.
 *
 * Prefill with a cached-prefix table (profile `compute.prefill_cached`, measured by the probe).
 * A chunk of n new tokens after c tokens already in the KV cache (reused, onboarded, or computed
 * by an earlier chunk) costs the table's time for (c, n), interpolated as cached-prefill.ts says:
 * a whole forward pass, so a request whose prefix is on the GPU or onboarded still pays for its
 * suffix's pass through every layer (every weight read at least once). A shape without its own
 * table uses the llama-3.1-8b table (or the first) times the ratio of the two shapes' fitted times
 * below for the same (c, n); tensor parallelism divides by tp / the table's tp (perfect scaling).
 * The engine adds the chunks and the decode step of one iteration, so an iteration holding several
 * chunks pays the weight-bound floor once per chunk (an overestimate when many short prompts are
 * batched together; the probe measured one request per pass).
 *
 * Prefill without that table. Each reference table `[tokens, seconds]` is fitted with t(n) = a·n + b·n² (weighted
 * least squares on relative error): the linear term is the weight GEMMs, the quadratic term is
 * causal attention. A chunk of n new tokens after c tokens already in the KV cache (reused or
 * computed by an earlier chunk) costs t(c + n) − t(c): the GEMMs for n tokens plus attention of
 * the new tokens over the whole context.
 *
 * Other shapes. A shape with its own table in the profile uses it. Otherwise the llama-3.1-8b
 * table (or the first one) is scaled: the linear term by parameter count, the quadratic term by
 * layers × query heads × head dim (attention FLOPs per token pair). Both are divided by the
 * tensor-parallel degree relative to the table's (perfect scaling: TP communication is left out).
 *
 * Decode. One step streams the weights and the KV of every sequence in the batch from HBM:
 * (weight bytes + KV bytes of all contexts) / tp / effective HBM bandwidth + step overhead;
 * or, when the profile has a measured step table for the shape, a line through it.
 *
 * Iterations holding several requests (context chunks, or chunks and decode steps in one forward
 * pass, as in-flight batching does): priced from the profile's measured batched passes
 * (batched.ts), when it has them; else the sum of the parts (an overestimate for short chunks).
 */
import type { Profile, PrefillReference, CachedPrefillTable } from './profile.js';
import { CachedPrefillGrid } from './cached-prefill.js';
import { kvBytesPerTokenPerRank, resolveModelShape, weightBytesPerRank, type ModelShape } from './shapes.js';
import { iterationTransferSeconds, blockTransferSeconds, type Direction } from './link.js';
import { BatchedPricing } from './batched.js';

export interface PrefillFit {
  /** Seconds per token (linear term) for this shape and tp. */
  a: number;
  /** Seconds per token² (quadratic term) for this shape and tp. */
  b: number;
  /** The reference table used and how it was scaled. */
  reference: string;
  scaled: boolean;
}

/** Weighted least squares of t = a·n + b·n² over the points, minimising relative error. */
export function fitPrefill(points: ReadonlyArray<readonly [number, number]>): { a: number; b: number } {
  let s11 = 0, s12 = 0, s22 = 0, y1 = 0, y2 = 0;
  for (const [n, t] of points) {
    const x1 = n / t, x2 = (n * n) / t;
    s11 += x1 * x1; s12 += x1 * x2; s22 += x2 * x2; y1 += x1; y2 += x2;
  }
  const det = s11 * s22 - s12 * s12;
  let a = (y1 * s22 - y2 * s12) / det;
  let b = (s11 * y2 - s12 * y1) / det;
  // A negative term would make time fall with length: refit with the other term alone.
  if (a < 0) { a = 0; b = y2 / s22; }
  if (b < 0) { b = 0; a = y1 / s11; }
  return { a, b };
}

function pickReference(profile: Profile, shape: ModelShape): PrefillReference {
  const refs = profile.compute.prefill;
  return refs.find((r) => r.shape === shape.name) ?? refs.find((r) => r.shape === 'llama-3.1-8b') ?? refs[0]!;
}

export function prefillFitFor(profile: Profile, shape: ModelShape): PrefillFit {
  const ref = pickReference(profile, shape);
  const { a, b } = fitPrefill(ref.points);
  const tpFactor = ref.tp / shape.tp;
  if (ref.shape === shape.name) return { a: a * tpFactor, b: b * tpFactor, reference: ref.shape, scaled: false };
  const r = resolveModelShape(ref.shape);
  const linear = shape.params / r.params;
  const attention = (shape.layers * shape.qHeads * shape.headDim) / (r.layers * r.qHeads * r.headDim);
  return { a: a * linear * tpFactor, b: b * attention * tpFactor, reference: ref.shape, scaled: true };
}

/** Least-squares line t = c0 + c1·x through the points. */
export function fitLine(points: ReadonlyArray<readonly [number, number]>): { c0: number; c1: number } {
  const n = points.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
  const det = n * sxx - sx * sx;
  if (det === 0) return { c0: sy / n, c1: 0 };
  const c1 = (n * sxy - sx * sy) / det;
  return { c0: (sy - c1 * sx) / n, c1 };
}

/** The cached-prefix table a shape is timed from, and how its figures are scaled for it. */
export interface CachedPrefillTiming {
  table: CachedPrefillTable;
  grid: CachedPrefillGrid;
  /** Own table: the factor (table tp / served tp). Another shape's: null (scaled by the fits' ratio). */
  factor: number | null;
  /** The fitted C = 0 model of the table's shape at the table's tp, for scaling another shape. */
  tableFit: PrefillFit;
}

function cachedPrefillFor(profile: Profile, shape: ModelShape): CachedPrefillTiming | null {
  const tables = profile.compute.prefill_cached;
  if (!tables?.length) return null;
  const own = tables.find((t) => t.shape === shape.name);
  const table = own ?? tables.find((t) => t.shape === 'llama-3.1-8b') ?? tables[0]!;
  const tableShape = own ? { ...shape, tp: table.tp } : resolveModelShape(table.shape, { tp: table.tp });
  return {
    table,
    grid: new CachedPrefillGrid(table),
    factor: own ? table.tp / shape.tp : null,
    tableFit: prefillFitFor(profile, tableShape),
  };
}

export class TimingModel {
  readonly prefill: PrefillFit;
  /** Prefill from the profile's cached-prefix table, when it has one (else the fit above). */
  readonly cachedPrefill: CachedPrefillTiming | null;
  /** Decode step line from a measured table for this shape, when the profile has one. */
  readonly decodeLine: { c0: number; c1: number } | null;
  /** Bytes of one KV block on one tensor-parallel rank (what one block copy moves). */
  readonly blockBytes: number;
  /** Batched-pass ratios (profile compute.batched); null: an iteration costs the sum of its parts. */
  readonly batched: BatchedPricing | null;

  constructor(
    readonly profile: Profile,
    readonly shape: ModelShape,
    readonly tokensPerBlock: number,
  ) {
    this.prefill = prefillFitFor(profile, shape);
    this.cachedPrefill = cachedPrefillFor(profile, shape);
    this.blockBytes = tokensPerBlock * kvBytesPerTokenPerRank(shape);
    this.batched = profile.compute.batched ? new BatchedPricing(profile.compute.batched) : null;
    const table = profile.compute.decode.step_tables?.find((t) => t.shape === shape.name);
    if (table) {
      const { c0, c1 } = fitLine(table.points);
      const f = table.tp / shape.tp;
      this.decodeLine = { c0: Math.max(0, c0) * f, c1: Math.max(0, c1) * f };
    } else this.decodeLine = null;
  }

  private static fitted(fit: PrefillFit, cachedTokens: number, newTokens: number): number {
    const t = (n: number) => fit.a * n + fit.b * n * n;
    return t(cachedTokens + newTokens) - t(cachedTokens);
  }

  /** Seconds to prefill `newTokens` tokens on top of `cachedTokens` already in the KV cache. */
  prefillSeconds(newTokens: number, cachedTokens = 0): number {
    if (newTokens <= 0) return 0;
    const cp = this.cachedPrefill;
    if (!cp) return TimingModel.fitted(this.prefill, cachedTokens, newTokens);
    const measured = cp.grid.seconds(cachedTokens, newTokens);
    if (cp.factor !== null) return measured * cp.factor;
    const ratio = TimingModel.fitted(this.prefill, cachedTokens, newTokens) / TimingModel.fitted(cp.tableFit, cachedTokens, newTokens);
    return measured * (Number.isFinite(ratio) && ratio > 0 ? ratio : cp.table.tp / this.shape.tp);
  }

  /** Seconds of one decode step for `sequences` sequences holding `contextTokens` tokens in total. */
  decodeStepSeconds(sequences: number, contextTokens: number): number {
    if (sequences <= 0) return 0;
    if (this.decodeLine) return this.decodeLine.c0 + this.decodeLine.c1 * contextTokens;
    const d = this.profile.compute.decode;
    const bytes = weightBytesPerRank(this.shape) + contextTokens * kvBytesPerTokenPerRank(this.shape);
    return bytes / (d.effective_hbm_GBps * 1e9) + d.step_overhead_s;
  }

  /**
   * Compute seconds of one iteration: its context chunks (each timed alone by prefillSeconds) and one
   * decode step for `decodes` sequences holding `decodeContext` tokens in all. Returns the total and
   * the factor each chunk's own time was multiplied by (its share of the pass).
   */
  iterationComputeSeconds(chunks: ReadonlyArray<{ newTokens: number; cachedTokens: number }>, decodes: number, decodeContext: number): { seconds: number; chunkFactor: number; chunkSeconds: number[] } {
    const own = chunks.map((c) => this.prefillSeconds(c.newTokens, c.cachedTokens));
    const sumChunks = own.reduce((a, b) => a + b, 0);
    const decode = this.decodeStepSeconds(decodes, decodeContext);
    if (!this.batched || (chunks.length <= 1 && (chunks.length === 0 || decodes === 0))) {
      return { seconds: sumChunks + decode, chunkFactor: 1, chunkSeconds: own };
    }
    const tokens = chunks.reduce((a, c) => a + c.newTokens, 0);
    const r = chunks.length > 1 ? this.batched.chunksRatio(tokens / chunks.length, chunks.length) : 1;
    const m = decodes > 0 && chunks.length > 0 ? this.batched.mixedRatioAt(tokens, decodes, decodeContext / decodes) : 1;
    return { seconds: m * (r * sumChunks + decode), chunkFactor: m * r, chunkSeconds: own };
  }

  /** Seconds to move `blocks` KV blocks one way. */
  blockTransferSeconds(dir: Direction, blocks: number): number {
    return blockTransferSeconds(this.profile.link, dir, blocks, this.blockBytes);
  }

  /** Seconds for an iteration's onboards and offloads together. */
  transferSeconds(onboardBlocks: number, offloadBlocks: number): number {
    return iterationTransferSeconds(this.profile.link, onboardBlocks, offloadBlocks, this.blockBytes);
  }
}
