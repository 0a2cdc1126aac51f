/**
 * Model shapes: what the KV cache and the compute model need to know about a model.
 *
 * KV bytes per token = 2 (K and V) × layers × kv heads × head dim × bytes per element, for the
 * whole model; with tensor parallelism each rank holds kv_heads / tp of the heads.
 */
import { ConfigError } from '@kvbench/common';

export type KvDtype = 'fp32' | 'fp16' | 'bf16' | 'fp8' | 'int8';
export const DTYPE_BYTES: Readonly<Record<KvDtype, number>> = { fp32: 4, fp16: 2, bf16: 2, fp8: 1, int8: 1 };

export interface ModelShape {
  /** Canonical shape name ("llama-3.1-8b") or "custom". */
  name: string;
  layers: number;
  kvHeads: number;
  headDim: number;
  /** KV cache element type. */
  dtype: KvDtype;
  /** Query heads (hidden size = qHeads × headDim). Custom shapes without it assume 4 × kvHeads (Llama-3 GQA). */
  qHeads: number;
  /** Parameter count, for decode weight traffic and prefill scaling. Estimated for custom shapes. */
  params: number;
  /** Tensor-parallel degree: each rank holds kvHeads / tp heads and 1/tp of the weights. */
  tp: number;
}

interface KnownShape {
  name: string;
  layers: number;
  kvHeads: number;
  headDim: number;
  qHeads: number;
  params: number;
  /** Lower-cased model names/paths whose base name matches this pattern map to this shape. */
  pattern: RegExp;
}

/** Published configs (config.json of each model on Hugging Face). */
const KNOWN: readonly KnownShape[] = [
  { name: 'llama-3.1-8b', layers: 32, kvHeads: 8, headDim: 128, qHeads: 32, params: 8.03e9, pattern: /llama-?3(\.[0-9])?-8b/ },
  { name: 'llama-3-70b', layers: 80, kvHeads: 8, headDim: 128, qHeads: 64, params: 70.6e9, pattern: /llama-?3(\.[0-9])?-70b/ },
  { name: 'qwen3-8b', layers: 36, kvHeads: 8, headDim: 128, qHeads: 32, params: 8.19e9, pattern: /qwen-?3-8b/ },
];

export function knownShapeNames(): string[] {
  return KNOWN.map((k) => k.name);
}

/** "layers:kvheads:headdim:dtype[:qheads]", e.g. "32:8:128:bf16". */
export function parseShapeSpec(spec: string, tp = 1): ModelShape {
  const parts = spec.split(':');
  const [l, k, h, d, q] = parts;
  const layers = Number(l), kvHeads = Number(k), headDim = Number(h);
  const dtype = (d ?? 'bf16').toLowerCase() as KvDtype;
  const bad = (why: string) =>
    new ConfigError(`invalid --model_shape '${spec}': ${why}; expected layers:kvheads:headdim:dtype[:qheads], e.g. 32:8:128:bf16`, 'model_shape');
  if (parts.length < 3 || parts.length > 5) throw bad('wrong number of fields');
  for (const [n, v] of [['layers', layers], ['kvheads', kvHeads], ['headdim', headDim]] as const)
    if (!Number.isInteger(v) || v <= 0) throw bad(`${n} must be a positive integer`);
  if (!(dtype in DTYPE_BYTES)) throw bad(`dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  const qHeads = q === undefined ? 4 * kvHeads : Number(q);
  if (!Number.isInteger(qHeads) || qHeads <= 0) throw bad('qheads must be a positive integer');
  const hidden = qHeads * headDim;
  // Rough dense-transformer count (attention 4h² + SwiGLU MLP ≈ 8h², no embeddings): used only
  // to scale compute, documented as an estimate.
  const params = layers * 12 * hidden * hidden;
  return checkTp({ name: 'custom', layers, kvHeads, headDim, dtype, qHeads, params, tp });
}

function checkTp(shape: ModelShape): ModelShape {
  if (!Number.isInteger(shape.tp) || shape.tp < 1 || shape.kvHeads % shape.tp !== 0)
    throw new ConfigError(`tensor-parallel degree ${shape.tp} must be a positive divisor of the ${shape.kvHeads} KV heads`, 'tp');
  return shape;
}

export interface ResolveShapeOptions {
  /** Explicit shape spec; wins over the name. */
  shape?: string;
  tp?: number;
  dtype?: KvDtype;
}

/**
 * Model name or path → shape. Known: the names of ../shared/seed/COMMANDS.md
 * (`meta-llama/Llama-3-70B-Instruct`) and common ones (Llama-3.1-8B, Qwen3-8B), matched on the
 * last path component, case-insensitively. An unknown name needs `shape`.
 */
export function resolveModelShape(model: string, opts: ResolveShapeOptions = {}): ModelShape {
  const tp = opts.tp ?? 1;
  if (opts.shape) {
    const s = parseShapeSpec(opts.shape, tp);
    return opts.dtype ? { ...s, dtype: opts.dtype } : s;
  }
  const base = model.replace(/\/+$/, '').split('/').pop()!.toLowerCase().replace(/^meta-/, '');
  const known = KNOWN.find((k) => k.pattern.test(base));
  if (!known) {
    throw new ConfigError(
      `unknown model '${model}': the simulator knows ${knownShapeNames().join(', ')} (and names like meta-llama/Llama-3-70B-Instruct); ` +
        `give the shape with --model_shape layers:kvheads:headdim:dtype`,
      'model',
    );
  }
  const { pattern: _p, ...rest } = known;
  return checkTp({ ...rest, dtype: opts.dtype ?? 'bf16', tp });
}

/** KV bytes per token for the whole model (all ranks). */
export function kvBytesPerToken(shape: ModelShape): number {
  return 2 * shape.layers * shape.kvHeads * shape.headDim * DTYPE_BYTES[shape.dtype];
}

/** KV bytes per token held by one tensor-parallel rank. */
export function kvBytesPerTokenPerRank(shape: ModelShape): number {
  return kvBytesPerToken(shape) / shape.tp;
}

/** Weight bytes per rank (weights assumed bf16 whatever the KV dtype). */
export function weightBytesPerRank(shape: ModelShape): number {
  return (shape.params * 2) / shape.tp;
}
