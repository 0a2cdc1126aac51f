/**
 * The probe's output (python/kvbench_probe.py): schema "kvbench.probe-raw", version 1.
 *
 * The parts the profile builder and the link check read are typed; everything else the probe
 * writes (full nvidia-smi text, lscpu, percentiles, ...) passes through (`loose`).
 */
import { z } from 'zod';
import { parseOrThrow, ValidationError } from '@kvbench/common';

const num = z.number();
const pos = z.number().positive();
const int = z.number().int();
const Direction = z.enum(['h2d', 'd2h']);

/** Median, spread and repeat count of a timed measurement (seconds). */
const Timing = {
  reps: int.positive(),
  median_s: pos,
  min_s: pos,
  max_s: pos,
};

/**
 * The head the probe writes on each section it times on a model shape (compute, cached_prefill:
 * the same keys in kvbench_probe.py): it runs `layers_run` of the shape's layers, and
 * `layer_scale` (layers / layers_run) turns their time into the whole model's.
 */
const ShapeSection = {
  shape: z.string(),
  config: z.record(z.string(), int),
  layers_run: int.positive(),
  layer_scale: pos,
  attention: z.string(),
};

export const ProbeGpu = z
  .object({
    index: int.nullable(),
    name: z.string(),
    driver: z.string(),
    pcie_gen_current: int.nullable(),
    pcie_gen_max: int.nullable(),
    pcie_width_current: int.nullable(),
    pcie_width_max: int.nullable(),
    memory_total_mib: int.nullable(),
  })
  .loose();
export type ProbeGpu = z.infer<typeof ProbeGpu>;

export const ProbeEnvironment = z
  .object({
    captured_at: z.string(),
    gpus: z.array(ProbeGpu),
    cpu: z.record(z.string(), z.string()),
    host_memory: z.record(z.string(), z.union([num, z.string()])),
    torch: z.string(),
    torch_cuda: z.string().nullable(),
    device: z
      .object({
        name: z.string(),
        capability: z.string(),
        multi_processor_count: int,
        total_memory_bytes: int,
      })
      .loose(),
  })
  .loose();
export type ProbeEnvironment = z.infer<typeof ProbeEnvironment>;

/** One copy of `bytes`, pinned or pageable host memory. */
export const ProbeCopy = z
  .object({
    dir: Direction,
    pinned: z.boolean(),
    bytes: int.positive(),
    GBps: pos,
    ...Timing,
    unheld_GBps: pos.optional(),
  })
  .loose();
export type ProbeCopy = z.infer<typeof ProbeCopy>;

/** `n_blocks` separate copies of `block_bytes` each, over `streams` streams. */
export const ProbeBlockCopy = z
  .object({
    dir: Direction,
    block_bytes: int.positive(),
    n_blocks: int.positive(),
    streams: int.positive(),
    GBps: pos,
    ...Timing,
    host_bound: z.boolean(),
    layout: z.enum(['sweep', 'all_layers', 'per_layer']),
    shape: z.string().optional(),
    tokens_per_block: int.positive().optional(),
  })
  .loose();
export type ProbeBlockCopy = z.infer<typeof ProbeBlockCopy>;

export const ProbeBidirectional = z
  .object({
    kind: z.enum(['single', 'blocks']),
    bytes_each: int.positive(),
    block_bytes: int.positive().optional(),
    h2d_GBps: pos,
    d2h_GBps: pos,
    total_GBps: pos,
  })
  .loose();
export type ProbeBidirectional = z.infer<typeof ProbeBidirectional>;

export const ProbePrefillPoint = z
  .object({ tokens: int.positive(), seconds: pos, reps: int.positive() })
  .loose();

export const ProbeDecodePoint = z
  .object({
    batch: int.positive(),
    context: int.positive(),
    seconds: pos,
    cuda_graph: z.boolean(),
    bytes_per_step: pos,
  })
  .loose();
export type ProbeDecodePoint = z.infer<typeof ProbeDecodePoint>;

export const ProbeCompute = z
  .object({
    ...ShapeSection,
    prefill: z.array(ProbePrefillPoint),
    decode: z.array(ProbeDecodePoint),
  })
  .loose();
export type ProbeCompute = z.infer<typeof ProbeCompute>;

/** One pass of `new` tokens over `cached` ones on the paged pool (full-model seconds). */
export const ProbeCachedPoint = z
  .object({
    cached: int.nonnegative(),
    new: int.positive(),
    seconds: pos,
    reps: int.positive(),
    host_bound: z.boolean(),
    finite_output: z.boolean(),
  })
  .loose();
export type ProbeCachedPoint = z.infer<typeof ProbeCachedPoint>;

export const ProbeCachedPrefill = z
  .object({
    ...ShapeSection,
    tokens_per_block: int.positive(),
    points: z.array(ProbeCachedPoint),
    skipped: z.array(z.object({ cached: int, new: int, reason: z.string() }).loose()),
  })
  .loose();
export type ProbeCachedPrefill = z.infer<typeof ProbeCachedPrefill>;

/** One prompt length and suffix of the offload-vs-recompute section. */
export const ProbeOffloadRow = z
  .object({
    prompt_tokens: int.positive(),
    suffix_tokens: int.positive(),
    cached_tokens: int.nonnegative(),
    onboard_blocks: int.nonnegative(),
    onboard_bytes: int.nonnegative(),
    recompute_s: pos,
    onboard_s: pos,
    onboard_copy_s: pos,
    gpu_hit_s: pos,
    finite_output: z.boolean(),
  })
  .loose();
export type ProbeOffloadRow = z.infer<typeof ProbeOffloadRow>;

export const ProbeOffloadVsRecompute = z
  .object({
    shape: z.string(),
    layers_run: int.positive(),
    attention: z.string(),
    tokens_per_block: int.positive(),
    block_bytes: int.positive(),
    rows: z.array(ProbeOffloadRow),
    skipped: z.array(z.object({ prompt_tokens: int, reason: z.string() }).loose()),
  })
  .loose();
export type ProbeOffloadVsRecompute = z.infer<typeof ProbeOffloadVsRecompute>;

export const ProbeRaw = z
  .object({
    schema: z.literal('kvbench.probe-raw'),
    version: z.literal(1),
    probe_version: z.string(),
    mode: z.enum(['full', 'quick']),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    complete: z.boolean(),
    args: z.record(z.string(), z.unknown()),
    method: z.record(z.string(), z.unknown()),
    environment: ProbeEnvironment,
    copies: z.array(ProbeCopy),
    block_copies: z.array(ProbeBlockCopy),
    bidirectional: z.array(ProbeBidirectional),
    d2d: z.object({ bytes: int.positive(), GBps_read_plus_write: pos }).loose().nullable(),
    compute: z.array(ProbeCompute),
    /** Absent in output of probe versions before the cached-prefill section. */
    cached_prefill: z.array(ProbeCachedPrefill).default([]),
    offload_vs_recompute: ProbeOffloadVsRecompute.nullable().default(null),
    /** Passes holding several requests (absent before issue 20's probe). */
    batched: z
      .array(
        z
          .object({
            shape: z.string(),
            attention: z.string(),
            chunks: z.array(z.object({ new: int.positive(), k: int.positive(), seconds: pos, finite_output: z.boolean() }).loose()),
            mixed: z.array(z.object({ new: int.nonnegative(), decodes: int.positive(), context: int.positive(), seconds: pos, finite_output: z.boolean() }).loose()),
          })
          .loose(),
      )
      .default([]),
    errors: z.array(z.object({ section: z.string(), error: z.string() }).loose()),
  })
  .loose();
export type ProbeRaw = z.infer<typeof ProbeRaw>;

/** Validate a parsed probe output; throws ValidationError naming the field. */
export function parseProbeRaw(doc: unknown, what = 'probe output'): ProbeRaw {
  return parseOrThrow(ProbeRaw, doc, what);
}

/** Parse probe output text (JSON). */
export function parseProbeRawText(text: string, what = 'probe output'): ProbeRaw {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${what} is not JSON: ${(err as Error).message}`, '(root)', { cause: err });
  }
  return parseProbeRaw(doc, what);
}
