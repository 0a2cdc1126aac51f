/**
 * Probe output → simulator hardware profile (services/engine-sim/src/profile.ts, "kvbench.sim-profile" v1).
 *
 * Every number in the profile is taken from the probe output or computed from it as described here:
 *
 * - link.{h2d,d2h}.{pinned,pageable}: one point per copy size, `[bytes, GB/s]` (the median of the
 *   probe's repeats; if a size was measured more than once, the median of those).
 * - link.block_copy: the one-stream block-copy batches (the size sweep and the sizes the model
 *   shapes imply), `[block bytes, GB/s]`; a size measured more than once takes the median.
 * - link.bidirectional_total_GBps: the largest single-copy "both directions at once" measurement.
 * - compute.prefill: one reference per probed shape the simulator knows, `[tokens, seconds]` at
 *   tensor-parallel degree 1 (the probe's full-model figures; large shapes were scaled from a layer
 *   subset by the probe, which the note says).
 * - compute.decode: least-squares fit of step time = bytes / bandwidth + overhead over the decode
 *   points of every probed shape, minimising relative error, with bytes counted the way the
 *   simulator's time model counts them (weight bytes = params × 2 from the simulator's shape table,
 *   plus the KV bytes the batch reads), so that the simulator reproduces the measured step times.
 * - compute.memory_GB: nvidia-smi memory.total (MiB → GB), else PyTorch's total_memory.
 * - compute.prefill_cached: one table per probed shape the simulator knows, `[cached, new, seconds]`
 *   exactly as the probe's cached_prefill section wrote them (full-model seconds; large shapes
 *   scaled from a layer subset by the probe), at tensor-parallel degree 1. With `cachedPrefillFrom`
 *   the tables come from another machine's output (a GPU that was not available to measure), and
 *   say so in `measured_on`.
 * - measured.offload_vs_recompute: the probe's three cases per prompt length, as measured.
 */
import {
  kvBytesPerTokenPerRank,
  parseProfile,
  resolveModelShape,
  weightBytesPerRank,
  type ModelShape,
  type Profile,
} from '@kvbench/hardware';
import { ValidationError } from '@kvbench/common';
import type { ProbeRaw, ProbeCopy, ProbeBlockCopy } from './raw.js';

/** Probe output to take the cached-prefill tables from, when the profile's own machine has none. */
export interface CachedPrefillSource {
  raw: ProbeRaw;
  /** Where that output is kept (cited), e.g. "profiles/measured/h200-pcie-gen5.raw.json". */
  rawSource: string;
  /** Why the tables come from elsewhere, for the profile's note. */
  reason: string;
}

export interface BuildProfileOptions {
  /** Profile name (the file's base name): lower case, digits, '.', '_' and '-'. */
  name: string;
  /** System label the profile stands for by default ("pcie", "c2c"). */
  system?: string;
  /** Replaces the generated description. */
  description?: string;
  /** Where the probe output is kept (cited in `sources`), e.g. "profiles/measured/h100-pcie-gen5.raw.json". */
  rawSource?: string;
  /** Take compute.prefill_cached from this output instead of `raw` (which lacks the section). */
  cachedPrefillFrom?: CachedPrefillSource;
  /**
   * Later probe runs that add or replace sections, in order. A run on this profile's GPU: its
   * cached-prefix tables replace a shape's table, its offload-vs-recompute cases replace
   * measured.offload_vs_recompute, its batched passes become compute.batched. A run on another GPU
   * gives only compute.batched (its ratios), marked measured_on with `reason`.
   */
  laterRuns?: Array<{ raw: ProbeRaw; rawSource: string; reason?: string }>;
}

export interface BuiltProfile {
  profile: Profile;
  /** What could not go into the profile (a shape the simulator does not know, a missing section). */
  warnings: string[];
  /** The decode fit, per shape and overall, for reports. */
  decodeFit: DecodeFit | null;
}

export interface DecodeFit {
  effective_hbm_GBps: number;
  step_overhead_s: number;
  points: number;
  /** Largest relative error of the fit over its points. */
  max_rel_error: number;
}

type Point = [number, number];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Group `[x, y]` points by x, take the median y, sort by x ascending. */
function table(points: Point[], digits = 3): Point[] {
  const byX = new Map<number, number[]>();
  for (const [x, y] of points) byX.set(x, [...(byX.get(x) ?? []), y]);
  return [...byX.entries()].sort((a, b) => a[0] - b[0]).map(([x, ys]) => [x, round(median(ys), digits)]);
}

function copyTable(copies: ProbeCopy[], dir: 'h2d' | 'd2h', pinned: boolean): Point[] {
  return table(copies.filter((c) => c.dir === dir && c.pinned === pinned).map((c) => [c.bytes, c.GBps]));
}

function blockTable(blocks: ProbeBlockCopy[], dir: 'h2d' | 'd2h'): Point[] {
  return table(blocks.filter((b) => b.dir === dir && b.streams === 1).map((b) => [b.block_bytes, b.GBps]));
}

/** The simulator's shape for a probed shape name, or undefined if it does not know it. */
function simShape(name: string): ModelShape | undefined {
  try {
    return resolveModelShape(name);
  } catch {
    return undefined;
  }
}

/**
 * Weighted least squares of t = s·bytes + o minimising relative error, with o ≥ 0.
 * Returns null when there is no usable point.
 */
export function fitDecode(points: ReadonlyArray<readonly [number, number]>): DecodeFit | null {
  const pts = points.filter(([b, t]) => b > 0 && t > 0);
  if (pts.length === 0) return null;
  let s: number;
  let o = 0;
  // Rows: (b/t)·s + (1/t)·o ≈ 1.
  let s11 = 0, s12 = 0, s22 = 0, y1 = 0, y2 = 0;
  for (const [b, t] of pts) {
    const x1 = b / t, x2 = 1 / t;
    s11 += x1 * x1; s12 += x1 * x2; s22 += x2 * x2; y1 += x1; y2 += x2;
  }
  const det = s11 * s22 - s12 * s12;
  if (pts.length >= 2 && Math.abs(det) > 1e-12 * s11 * s22) {
    s = (y1 * s22 - y2 * s12) / det;
    o = (s11 * y2 - s12 * y1) / det;
  } else {
    s = NaN;
  }
  if (!(s > 0) || o < 0) {
    // Through the origin: time proportional to bytes.
    o = 0;
    s = y1 / s11;
  }
  const maxRel = Math.max(...pts.map(([b, t]) => Math.abs(s * b + o - t) / t));
  return {
    effective_hbm_GBps: round(1 / s / 1e9, 1),
    step_overhead_s: round(o, 7),
    points: pts.length,
    max_rel_error: round(maxRel, 4),
  };
}

function cachedPrefillTables(raw: ProbeRaw, foreign: CachedPrefillSource | undefined, warnings: string[]): NonNullable<Profile['compute']['prefill_cached']> {
  const src = foreign?.raw ?? raw;
  const tables: NonNullable<Profile['compute']['prefill_cached']> = [];
  for (const c of src.cached_prefill) {
    const shape = simShape(c.shape);
    if (!shape) {
      warnings.push(`cached_prefill: shape '${c.shape}' is not one the simulator knows: left out`);
      continue;
    }
    const bad = c.points.filter((p) => !p.finite_output);
    if (bad.length) warnings.push(`cached_prefill ${c.shape}: ${bad.length} point(s) with non-finite output left out`);
    const points = c.points.filter((p) => p.finite_output).map((p) => [p.cached, p.new, p.seconds] as [number, number, number]);
    if (points.length < 2 || !points.some(([cached]) => cached === 0)) {
      warnings.push(`cached_prefill ${c.shape}: fewer than 2 points or none with nothing cached, left out`);
      continue;
    }
    const scaled = c.layers_run < (c.config['layers'] ?? c.layers_run);
    tables.push({
      shape: shape.name,
      tp: 1,
      points,
      ...(foreign ? { measured_on: src.environment.device.name } : {}),
      note:
        `kvbench probe cached_prefill: random bf16 weights, ${c.attention.split(' (')[0]}, paged KV pool of ${c.tokens_per_block}-token blocks, batch 1, one GPU, device time; ` +
        (scaled ? `${c.layers_run} of ${c.config['layers']} layers timed, layer time × ${round(c.layer_scale, 4)}, LM head added once` : 'all layers timed') +
        (foreign ? `; measured on ${src.environment.device.name} (${foreign.rawSource}): ${foreign.reason}` : ''),
    });
  }
  tables.sort((a, b) => (a.shape === 'llama-3.1-8b' ? -1 : b.shape === 'llama-3.1-8b' ? 1 : 0));
  return tables;
}

function offloadVsRecompute(raw: ProbeRaw, warnings: string[]): NonNullable<Profile['measured']>['offload_vs_recompute'] {
  const o = raw.offload_vs_recompute;
  if (!o) return undefined;
  const rows = o.rows.filter((r) => r.finite_output);
  if (rows.length < o.rows.length) warnings.push(`offload_vs_recompute: ${o.rows.length - rows.length} row(s) with non-finite output left out`);
  if (!rows.length) return undefined;
  return {
    shape: o.shape,
    rows: rows.map((r) => ({
      prompt_tokens: r.prompt_tokens,
      suffix_tokens: r.suffix_tokens,
      cached_tokens: r.cached_tokens,
      onboard_blocks: r.onboard_blocks,
      block_bytes: o.block_bytes,
      tokens_per_block: o.tokens_per_block,
      recompute_s: r.recompute_s,
      onboard_s: r.onboard_s,
      onboard_copy_s: r.onboard_copy_s,
      gpu_hit_s: r.gpu_hit_s,
    })),
    note:
      `kvbench probe offload_vs_recompute, ${o.shape}, whole model on one GPU, ${o.attention.split(' (')[0]}: recompute = the whole prompt; ` +
      'onboard = the prefix\'s blocks copied one per copy from pinned host memory in the same block layout, then the suffix; GPU hit = the suffix alone; device time to the first token\'s logits',
  };
}

/** The probe's batched passes as the simulator's compute.batched table (batched.ts prices iterations from it). */
function batchedTable(raw: ProbeRaw): NonNullable<Profile['compute']['batched']> | undefined {
  const b = raw.batched[0];
  if (!b) return undefined;
  const chunks = b.chunks.filter((c) => c.finite_output).map((c) => [c.new, c.k, c.seconds] as [number, number, number]);
  if (chunks.length < 2 || !chunks.some(([, k]) => k === 1)) return undefined;
  return {
    shape: b.shape,
    tp: 1,
    chunks,
    mixed: b.mixed.filter((m) => m.finite_output).map((m) => [m.new, m.decodes, m.context, m.seconds] as [number, number, number, number]),
    attention: b.attention.split(' (')[0]!,
  };
}

function linkKind(raw: ProbeRaw): string {
  const g = raw.environment.gpus[0];
  if (g && g.pcie_gen_max && g.pcie_width_max) return `PCIe Gen${g.pcie_gen_max} x${g.pcie_width_max}`;
  return 'unknown link (nvidia-smi reported no PCIe generation/width)';
}

function linkNow(raw: ProbeRaw): string {
  const g = raw.environment.gpus[0];
  if (!g) return 'no nvidia-smi data';
  return `nvidia-smi: PCIe Gen${g.pcie_gen_current ?? '?'} x${g.pcie_width_current ?? '?'} current, Gen${g.pcie_gen_max ?? '?'} x${g.pcie_width_max ?? '?'} max`;
}

function hostText(raw: ProbeRaw): string {
  const cpu = raw.environment.cpu;
  const mem = raw.environment.host_memory['MemTotal'];
  const parts = [cpu['Model name'] ?? 'unknown CPU'];
  if (cpu['CPU(s)']) parts.push(`${cpu['CPU(s)']} CPUs`);
  if (cpu['Hypervisor vendor']) parts.push(`${cpu['Hypervisor vendor']} guest`);
  if (typeof mem === 'number') parts.push(`${round(mem / 2 ** 30, 1)} GiB RAM`);
  return parts.join(', ');
}

/** Build a simulator profile from probe output. Throws ValidationError if the output lacks what a profile needs. */
export function buildProfile(raw: ProbeRaw, opts: BuildProfileOptions): BuiltProfile {
  const warnings: string[] = [];
  const env = raw.environment;
  const gpu = env.gpus[0];
  const rawSource = opts.rawSource ?? 'probe output';
  const tool = `kvbench probe ${raw.probe_version} (PyTorch ${env.torch}, CUDA ${env.torch_cuda ?? '?'})`;

  const h2dPinned = copyTable(raw.copies, 'h2d', true);
  const d2hPinned = copyTable(raw.copies, 'd2h', true);
  if (h2dPinned.length === 0 || d2hPinned.length === 0) {
    throw new ValidationError('probe output has no pinned copies in both directions: run the probe with its link section', 'copies');
  }
  const h2dPageable = copyTable(raw.copies, 'h2d', false);
  const d2hPageable = copyTable(raw.copies, 'd2h', false);
  const blocksH2d = blockTable(raw.block_copies, 'h2d');
  const blocksD2h = blockTable(raw.block_copies, 'd2h');
  const singles = raw.bidirectional.filter((b) => b.kind === 'single').sort((a, b) => b.bytes_each - a.bytes_each);

  // Prefill references, one per shape the simulator knows; llama-3.1-8b first (the simulator's default reference).
  const prefill: Profile['compute']['prefill'] = [];
  const decodePoints: Array<[number, number]> = [];
  for (const c of raw.compute) {
    const shape = simShape(c.shape);
    if (!shape) {
      warnings.push(`shape '${c.shape}' is not one the simulator knows: its compute figures are left out of the profile`);
      continue;
    }
    if (c.prefill.length >= 2) {
      const scaled = c.layers_run < (c.config['layers'] ?? c.layers_run);
      prefill.push({
        shape: shape.name,
        tp: 1,
        points: table(c.prefill.map((p) => [p.tokens, p.seconds]), 6),
        note:
          `kvbench probe: random bf16 weights, ${c.attention}, batch 1, one GPU; ` +
          (scaled ? `${c.layers_run} of ${c.config['layers']} layers timed, layer time × ${round(c.layer_scale, 4)}, LM head added once; ` : 'all layers timed; ') +
          'plain PyTorch, not TensorRT-LLM: an upper bound on prefill time',
      });
    } else {
      warnings.push(`shape '${c.shape}': fewer than 2 prefill points, left out`);
    }
    for (const d of c.decode) {
      const bytes = weightBytesPerRank(shape) + d.batch * (d.context + 1) * kvBytesPerTokenPerRank(shape);
      decodePoints.push([bytes, d.seconds]);
    }
  }
  prefill.sort((a, b) => (a.shape === 'llama-3.1-8b' ? -1 : b.shape === 'llama-3.1-8b' ? 1 : 0));
  if (prefill.length === 0) {
    throw new ValidationError('probe output has no prefill measurements of a shape the simulator knows: run the probe with its compute section', 'compute');
  }
  const fit = fitDecode(decodePoints);
  if (!fit) throw new ValidationError('probe output has no decode measurements: run the probe with its compute section', 'compute');

  const prefillCached = cachedPrefillTables(raw, opts.cachedPrefillFrom, warnings);
  let ovr = offloadVsRecompute(raw, warnings);
  let batched = batchedTable(raw);
  const later: Profile['sources'] = [];
  for (const run of opts.laterRuns ?? []) {
    const other = run.raw.environment.device.name !== env.device.name;
    const reason = run.reason ?? `measured on ${run.raw.environment.device.name}, not on this profile's GPU`;
    // Another GPU's tables never replace this GPU's own (only its batched ratios are taken).
    const tables = other ? [] : cachedPrefillTables(run.raw, undefined, warnings);
    for (const t of tables) {
      const note = other ? t.note : `${t.note}; ${run.rawSource}`;
      const i = prefillCached.findIndex((x) => x.shape === t.shape);
      if (i >= 0) prefillCached[i] = { ...t, note };
      else prefillCached.push({ ...t, note });
    }
    const o = other ? undefined : offloadVsRecompute(run.raw, warnings);
    if (o) ovr = o;
    const b = batchedTable(run.raw);
    if (b) batched = other ? { ...b, measured_on: run.raw.environment.device.name, note: `${reason}; only its ratios are used, applied to this profile's own chunk and decode times` } : b;
    const what = [tables.length ? `compute.prefill_cached (${tables.map((t) => t.shape).join(', ')})` : '', b ? 'compute.batched' : '', o ? 'measured.offload_vs_recompute' : ''].filter(Boolean).join(', ');
    if (what) later.push({ what, source: `${run.rawSource}: a later kvbench probe run on ${run.raw.environment.device.name} (${run.raw.started_at ?? '?'}); replaces what it measured`, ...(other ? { note: reason } : {}) });
  }
  const cachedSource = opts.cachedPrefillFrom?.rawSource ?? rawSource;

  const memoryGB = gpu?.memory_total_mib ? round((gpu.memory_total_mib * 2 ** 20) / 1e9, 2) : round(env.device.total_memory_bytes / 1e9, 2);
  const largest = (t: Point[]) => t[t.length - 1]!;
  const [bigBytes, bigH2d] = largest(h2dPinned);
  const bigD2h = largest(d2hPinned)[1];

  const doc = {
    schema: 'kvbench.sim-profile',
    version: 1,
    name: opts.name,
    description:
      opts.description ??
      `${env.device.name} behind ${linkKind(raw)}, measured by ${tool} on ${raw.started_at.slice(0, 10)}: ` +
        `pinned ${bigBytes} B copies ${bigH2d} GB/s host→GPU, ${bigD2h} GB/s GPU→host.`,
    ...(opts.system ? { system: opts.system } : {}),
    link: {
      kind: linkKind(raw),
      h2d: { pinned: h2dPinned, ...(h2dPageable.length ? { pageable: h2dPageable } : {}) },
      d2h: { pinned: d2hPinned, ...(d2hPageable.length ? { pageable: d2hPageable } : {}) },
      ...(blocksH2d.length && blocksD2h.length ? { block_copy: { h2d: blocksH2d, d2h: blocksD2h } } : {}),
      ...(singles[0] ? { bidirectional_total_GBps: singles[0].total_GBps } : {}),
    },
    compute: {
      gpu: env.device.name,
      memory_GB: memoryGB,
      prefill,
      ...(prefillCached.length ? { prefill_cached: prefillCached } : {}),
      ...(batched ? { batched } : {}),
      decode: { effective_hbm_GBps: fit.effective_hbm_GBps, step_overhead_s: fit.step_overhead_s },
    },
    sources: [
      {
        what: 'link.h2d, link.d2h',
        source: `${rawSource}: ${tool}, CUDA events, median of repeats after warm-up, copies rotating over ${Math.round(Number(raw.args["pool_bytes"] ?? 0) / 2 ** 20)} MiB pools`,
        note: `${env.device.name}, driver ${gpu?.driver ?? '?'}, ${linkNow(raw)}; pinned copies timed on the device (stream held while enqueued), pageable copies around a synchronous copy`,
      },
      ...(blocksH2d.length
        ? [{
            what: 'link.block_copy',
            source: `${rawSource} (block_copies, one stream)`,
            note: 'n separate copies of one block each (random slots of pinned host and device pools), back to back on one stream, timed on the device',
          }]
        : []),
      ...(singles[0]
        ? [{ what: 'link.bidirectional_total_GBps', source: `${rawSource} (bidirectional, kind single)`, note: `${singles[0].bytes_each} B each way at once on two streams` }]
        : []),
      { what: 'compute.prefill', source: `${rawSource} (compute[].prefill)`, note: 'full-model seconds as the probe computed them' },
      ...(prefillCached.length
        ? [{
            what: 'compute.prefill_cached',
            source: `${cachedSource} (cached_prefill[].points)`,
            note: opts.cachedPrefillFrom
              ? `measured on ${opts.cachedPrefillFrom.raw.environment.device.name}, not on this profile's GPU: ${opts.cachedPrefillFrom.reason}`
              : 'full-model seconds as the probe computed them',
          }]
        : []),
      ...(batched && !opts.laterRuns?.length ? [{ what: 'compute.batched', source: `${rawSource} (batched)`, note: `one pass of k chunks, and a chunk with B decodes at context C, linear layers fused; ${batched.attention}` }] : []),
      ...later,
      ...(ovr ? [{ what: 'measured.offload_vs_recompute', source: `${rawSource} (offload_vs_recompute.rows)`, note: 'the three cases as measured; validate.ts sets the model beside them' }] : []),
      {
        what: 'compute.decode',
        source: `${rawSource} (compute[].decode)`,
        note:
          `fit of step time = bytes / bandwidth + overhead over ${fit.points} decode steps (CUDA graphs), ` +
          `bytes = params × 2 (simulator shape table) + KV read by the batch; largest relative error ${fit.max_rel_error}`,
      },
      {
        what: 'compute.memory_GB',
        source: gpu?.memory_total_mib ? `${rawSource}: nvidia-smi memory.total ${gpu.memory_total_mib} MiB` : `${rawSource}: torch total_memory`,
      },
    ],
    measured: {
      at: raw.started_at,
      tool,
      gpu: env.device.name,
      host: hostText(raw),
      method: 'CUDA events; warm-up, then the median of repeats; buffers rotated through pools larger than the caches; see the raw file',
      driver: gpu?.driver,
      link: linkNow(raw),
      raw: rawSource,
      ...(ovr ? { offload_vs_recompute: ovr } : {}),
    },
  };
  const profile = parseProfile(doc, `profile built from ${rawSource}`);
  return { profile, warnings, decodeFit: fit };
}

/** The profile as the file text the simulator's profiles/ directory holds. */
export function profileJson(profile: Profile): string {
  return `${JSON.stringify(profile, compactTables, 2)
    .replace(/"__ROW__(\[[^"]*\])"/g, '$1')}\n`;
}

// Keep `[x, y]`, `[c, n, s]` and `[n, B, C, s]` table rows on one line.
function compactTables(this: unknown, _key: string, value: unknown): unknown {
  if (Array.isArray(value) && value.length >= 2 && value.length <= 4 && value.every((v) => typeof v === 'number')) {
    return `__ROW__${JSON.stringify(value)}`;
  }
  return value;
}
