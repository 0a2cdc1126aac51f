/**
 * Hardware profiles: the data the simulator's time model runs on.
 *
 * A profile is a JSON file (the simulator ships them in services/engine-sim/profiles/<name>.json) with two parts:
 *
 * - `link`: how fast KV blocks cross the CPU–GPU link, per direction (`h2d` host→GPU, used to
 *   onboard; `d2h` GPU→host, used to offload), for pinned and pageable host memory, as a table of
 *   `[transfer bytes, GB/s]` points (GB = 1e9 bytes). Between points the bandwidth is interpolated
 *   linearly in log(transfer bytes); outside the table it is held at the nearest point.
 *   Optional `block_copy` tables hold the bandwidth of many separate block-sized copies issued
 *   back to back (what an engine offloading block by block really gets); when present they are
 *   used for KV block transfers instead of the single-copy table. `bidirectional_total_GBps`
 *   caps the sum when both directions run at once.
 *
 * - `compute`: prefill time by prompt tokens for named reference model shapes (a table of
 *   `[tokens, seconds]` for one GPU of compute, i.e. tensor-parallel degree 1), optionally the
 *   prefill of N new tokens on top of C cached ones (`prefill_cached`, `[C, N, seconds]`), and the
 *   effective memory bandwidth that bounds a decode step. How a table is turned into a time for
 *   another shape or another cached context is documented in timing.ts.
 *
 * `sources` says where every figure came from; `measured` is present when the figures were
 * measured (by the GPU probe or by hand) rather than taken from publications.
 *
 * The GPU probe (issue 8) writes files in this format; keep the schema backward compatible.
 */
import { z } from 'zod';
import { parseOrThrow } from '@kvbench/common';

/** `[transfer size in bytes, bandwidth in GB/s (1e9 B/s)]`. */
export const BandwidthPoint = z.tuple([z.number().positive(), z.number().positive()]);

/** Bandwidth by transfer size, sorted by size ascending (checked). */
export const BandwidthTable = z
  .array(BandwidthPoint)
  .min(1)
  .refine((t) => t.every((p, i) => i === 0 || p[0] > t[i - 1]![0]), 'points must be sorted by transfer bytes, ascending, no duplicates');
export type BandwidthTable = z.infer<typeof BandwidthTable>;

/** One direction of the link. */
export const LinkDirection = z
  .object({
    /** One copy of N bytes from/to pinned (page-locked) host memory. */
    pinned: BandwidthTable,
    /** One copy of N bytes from/to pageable host memory. */
    pageable: BandwidthTable.optional(),
  })
  .strict();

export const LinkProfile = z
  .object({
    /** Free text: "PCIe Gen5 x16", "NVLink-C2C". */
    kind: z.string().min(1),
    h2d: LinkDirection,
    d2h: LinkDirection,
    /**
     * Many separate copies of `bytes` each, issued back to back on one stream:
     * `[block bytes, GB/s]` per direction. Preferred for KV block transfers when present.
     */
    block_copy: z.object({ h2d: BandwidthTable, d2h: BandwidthTable }).strict().optional(),
    /** Total GB/s when both directions copy at once (e.g. 85 on PCIe Gen5). */
    bidirectional_total_GBps: z.number().positive().optional(),
  })
  .strict();
export type LinkProfile = z.infer<typeof LinkProfile>;

/** `[prompt tokens, seconds]`: prefill of that many tokens with nothing cached. */
export const PrefillPoint = z.tuple([z.number().int().positive(), z.number().positive()]);

export const PrefillReference = z
  .object({
    /** Reference shape name, as resolveModelShape knows it ("llama-3.1-8b", "llama-3-70b"). */
    shape: z.string().min(1),
    /** Tensor-parallel degree the figures were measured at (the figures are divided by tp/this). */
    tp: z.number().int().positive().default(1),
    points: z
      .array(PrefillPoint)
      .min(2)
      .refine((t) => t.every((p, i) => i === 0 || p[0] > t[i - 1]![0]), 'points must be sorted by tokens, ascending'),
    note: z.string().optional(),
  })
  .strict();
export type PrefillReference = z.infer<typeof PrefillReference>;

/**
 * `[cached tokens, new tokens, seconds]`: one forward pass of N new tokens over C tokens already in
 * the KV cache, through every layer, to the first token's logits (what a request with a cached or
 * onboarded prefix pays after its blocks are on the GPU).
 */
export const CachedPrefillPoint = z.tuple([z.number().int().nonnegative(), z.number().int().positive(), z.number().positive()]);

export const CachedPrefillTable = z
  .object({
    /** Reference shape name, as resolveModelShape knows it. */
    shape: z.string().min(1),
    /** Tensor-parallel degree the figures were measured at (the figures are divided by tp/this). */
    tp: z.number().int().positive().default(1),
    points: z
      .array(CachedPrefillPoint)
      .min(2)
      .refine((t) => new Set(t.map(([c, n]) => `${c}x${n}`)).size === t.length, 'one point per (cached, new) pair')
      .refine((t) => t.some(([c]) => c === 0), 'needs points with nothing cached (C = 0)'),
    /** The GPU the table was measured on, when it is not the profile's own. */
    measured_on: z.string().optional(),
    note: z.string().optional(),
  })
  .strict();
export type CachedPrefillTable = z.infer<typeof CachedPrefillTable>;

/**
 * Passes holding several requests, as the probe's `batched` section measures them (one forward pass,
 * linear layers fused over every row): `chunks` `[tokens per chunk n, chunks k, seconds]` (k new
 * sequences of n tokens, nothing cached); `mixed` `[chunk tokens n (0: the decodes alone), decodes B,
 * context C of each decode, seconds]`. The simulator prices an iteration from their ratios to the
 * parts timed alone (timing.ts), not as the sum of its chunks.
 */
export const BatchedTable = z
  .object({
    shape: z.string().min(1),
    tp: z.number().int().positive().default(1),
    chunks: z.array(z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().positive()])).min(2)
      .refine((t) => t.some(([, k]) => k === 1), 'needs chunks timed alone (k = 1)'),
    mixed: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().positive(), z.number().int().positive(), z.number().positive()])).default([]),
    /** The GPU the table was measured on, when it is not the profile's own. */
    measured_on: z.string().optional(),
    /** The attention kernel the probe used. */
    attention: z.string().optional(),
    note: z.string().optional(),
  })
  .strict();
export type BatchedTable = z.infer<typeof BatchedTable>;

export const ComputeProfile = z
  .object({
    /** Free text: "H100 80GB HBM3 (Hopper)". */
    gpu: z.string().min(1),
    /**
     * GPU memory in GB (1e9 B); sizes the KV pool from free_gpu_memory_fraction when
     * kv_cache_config.max_tokens is not given. Optional: without it max_tokens is required.
     */
    memory_GB: z.number().positive().optional(),
    prefill: z.array(PrefillReference).min(1),
    /** Prefill with a cached prefix, per reference shape; when present it times every prefill chunk. */
    prefill_cached: z.array(CachedPrefillTable).optional(),
    /** Batched passes (several chunks, chunks with decodes); without it an iteration costs the sum of its parts. */
    batched: BatchedTable.optional(),
    decode: z
      .object({
        /**
         * Effective HBM bandwidth (GB/s) a decode step streams weights and KV at:
         * step time = (weight bytes / tp + KV bytes read by the batch / tp) / this + overhead.
         */
        effective_hbm_GBps: z.number().positive(),
        /** Fixed per-step overhead (launches, sampling), seconds. */
        step_overhead_s: z.number().nonnegative().default(0),
        /**
         * Optional measured decode steps for reference shapes: `[KV tokens read by the batch
         * (sum of the sequences' lengths), seconds]`. When the served shape has a table, the step
         * time is a least-squares line through it (scaled by the table's tp / the served tp)
         * instead of the bandwidth formula.
         */
        step_tables: z
          .array(
            z
              .object({
                shape: z.string().min(1),
                tp: z.number().int().positive().default(1),
                points: z.array(z.tuple([z.number().nonnegative(), z.number().positive()])).min(2),
                note: z.string().optional(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict(),
  })
  .strict();
export type ComputeProfile = z.infer<typeof ComputeProfile>;

export const ProfileSource = z
  .object({
    /** Which figures this source backs ("link.h2d.pinned", "compute.prefill"). */
    what: z.string().min(1),
    /** Citation: document, issue, measurement file. */
    source: z.string().min(1),
    url: z.string().optional(),
    note: z.string().optional(),
  })
  .strict();

/**
 * One prompt length of the probe's offload-vs-recompute section, as measured (seconds from the
 * first copy or the first layer to the first token's logits, device time).
 */
export const MeasuredOffloadVsRecompute = z
  .object({
    prompt_tokens: z.number().int().positive(),
    /** New tokens after the reused prefix (1: the same prompt again, its last token recomputed). */
    suffix_tokens: z.number().int().positive(),
    cached_tokens: z.number().int().nonnegative(),
    onboard_blocks: z.number().int().nonnegative(),
    block_bytes: z.number().int().positive(),
    tokens_per_block: z.number().int().positive(),
    /** (a) the whole prompt computed. */
    recompute_s: z.number().positive(),
    /** (b) the prefix's blocks copied from pinned host memory, then the suffix computed. */
    onboard_s: z.number().positive(),
    onboard_copy_s: z.number().positive(),
    /** (c) the suffix computed with the prefix already on the GPU. */
    gpu_hit_s: z.number().positive(),
  })
  .strict();
export type MeasuredOffloadVsRecompute = z.infer<typeof MeasuredOffloadVsRecompute>;

export const ProfileMeasured = z
  .object({
    /** ISO date or date-time of the measurement. */
    at: z.string().min(1),
    /** Tool that measured ("kvbench probe 0.1 (PyTorch 2.11, CUDA 13)"). */
    tool: z.string().min(1),
    gpu: z.string().optional(),
    host: z.string().optional(),
    method: z.string().optional(),
    /** The probe's offload-vs-recompute cases on this machine (validate.ts compares the model with them). */
    offload_vs_recompute: z
      .object({ shape: z.string().min(1), rows: z.array(MeasuredOffloadVsRecompute).min(1), note: z.string().optional() })
      .strict()
      .optional(),
  })
  .loose();

export const Profile = z
  .object({
    schema: z.literal('kvbench.sim-profile'),
    version: z.literal(1),
    /** Profile name: the file's base name. */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
    description: z.string().default(''),
    /** System label this profile stands for by default ("pcie", "c2c"), if any. */
    system: z.string().optional(),
    link: LinkProfile,
    compute: ComputeProfile,
    sources: z.array(ProfileSource).min(1),
    measured: ProfileMeasured.optional(),
  })
  .strict();
export type Profile = z.infer<typeof Profile>;


export function parseProfile(doc: unknown, what = 'profile'): Profile {
  return parseOrThrow(Profile, doc, what);
}
