/**
 * trtllm-serve configuration as the simulator reads it: the `--config` YAML (LLM API options) and
 * the command-line flags, resolved into the engine's options.
 *
 * Like TensorRT-LLM (pydantic models with extra="forbid"), a key the YAML does not define is an
 * error naming the key. Keys TensorRT-LLM has but the simulator does not model are accepted only
 * where listed below, and documented in the README.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, describeZodError, issuePath } from '@kvbench/common';
import { defaultProfileForSystem, loadProfile, type Profile } from './profile.js';
import { resolveModelShape, kvBytesPerTokenPerRank, weightBytesPerRank, type ModelShape, type KvDtype } from './shapes.js';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

export const KvCacheConfigYaml = z
  .object({
    max_tokens: posInt.optional(),
    /** TensorRT-LLM's default is 32. */
    tokens_per_block: posInt.default(32),
    /** Bytes of pinned host memory for the secondary pool. */
    host_cache_size: nonNegInt.default(0),
    enable_block_reuse: z.boolean().default(true),
    secondary_offload_min_priority: z.number().int().min(0).max(100).optional(),
    event_buffer_max_size: nonNegInt.default(0),
    free_gpu_memory_fraction: z.number().gt(0).max(1).default(0.9),
    /** Accepted; partial-block reuse is not modelled (README). */
    enable_partial_reuse: z.boolean().optional(),
    copy_on_partial_reuse: z.boolean().optional(),
    /** Caps the attention window (and so max_seq_len) like TensorRT-LLM; the smallest entry is used. */
    max_attention_window: z.array(posInt).min(1).optional(),
    /** "auto" (the model's dtype, bf16 here) or "fp8". */
    dtype: z.enum(['auto', 'fp8', 'bf16', 'fp16', 'float16', 'bfloat16']).optional(),
  })
  .strict();

export const SimYaml = z
  .object({
    kv_cache_config: KvCacheConfigYaml.default(KvCacheConfigYaml.parse({})),
    enable_iter_perf_stats: z.boolean().default(false),
    return_perf_metrics: z.boolean().default(false),
    perf_metrics_max_requests: nonNegInt.default(0),
    iter_stats_max_iterations: nonNegInt.optional(),
    enable_chunked_prefill: z.boolean().optional(),
    max_batch_size: posInt.optional(),
    max_num_tokens: posInt.optional(),
    max_seq_len: posInt.optional(),
    tensor_parallel_size: posInt.optional(),
    /** Accepted and ignored: the simulator has one backend. */
    backend: z.string().optional(),
    print_iter_log: z.boolean().optional(),
  })
  .strict();
export type SimYaml = z.infer<typeof SimYaml>;

/** Names of YAML keys that are not in the schema, dotted ("kv_cache_config.foo"). */
function unknownKeys(doc: unknown): string[] {
  if (!doc || typeof doc !== 'object') return [];
  const top = Object.keys(SimYaml.shape);
  const kv = Object.keys(KvCacheConfigYaml.shape);
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc)) {
    if (!top.includes(k)) out.push(k);
    else if (k === 'kv_cache_config' && v && typeof v === 'object')
      for (const kk of Object.keys(v)) if (!kv.includes(kk)) out.push(`kv_cache_config.${kk}`);
  }
  return out;
}

/** Validate a parsed YAML document; unknown keys and bad values raise ConfigError naming the key. */
export function parseSimYaml(doc: unknown, where = 'config'): SimYaml {
  const unknown = unknownKeys(doc ?? {});
  if (unknown.length > 0)
    throw new ConfigError(`${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (TensorRT-LLM rejects keys it does not define)`, unknown[0]!);
  const r = SimYaml.safeParse(doc ?? {});
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new ConfigError(`${where}: ${describeZodError(r.error)}`, issuePath(first.path), { cause: r.error });
  }
  return r.data;
}

export function loadSimYaml(path: string): SimYaml {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read --config ${path}: ${(err as Error).message}`, 'config', { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--config ${path} is not valid YAML: ${(err as Error).message}`, 'config', { cause: err });
  }
  return parseSimYaml(doc, path);
}

/** Everything that decides how the simulator behaves; the CLI and startSimServer both build one. */
export interface SimOptions {
  model: string;
  /** Parsed YAML (or its path). */
  config?: SimYaml | string;
  maxBatchSize?: number;
  maxSeqLen?: number;
  maxNumTokens?: number;
  host?: string;
  port?: number;
  /** Profile name, path, or the profile itself. Default: by `system`, else h100-pcie-gen5. */
  profile?: string | Profile;
  /** System label (pcie, c2c): picks the default profile. */
  system?: string;
  modelShape?: string;
  tp?: number;
  seed?: number;
  /** Each modelled second lasts timeScale real seconds. */
  timeScale?: number;
  /**
   * real (default): modelled time runs against the steady clock (× timeScale). virtual: modelled time
   * advances only when a client grants it (POST /sim/advance) and nothing sleeps (virtual-driver.ts).
   */
  clock?: 'real' | 'virtual';
  /** Answer /metrics like builds without kvCacheIterationStats. */
  legacyMetrics?: boolean;
  /** Tokenize in a worker thread (default) or inline. */
  tokenizerWorker?: boolean;
}

/** trtllm-serve's defaults for the flags kvbench passes. */
export const TRTLLM_DEFAULTS = { maxBatchSize: 2048, maxNumTokens: 8192, maxSeqLen: 131072 } as const;
const DEFAULT_ITER_STATS_MAX = 1000;
const VIRTUAL_ITER_STATS_MAX = 100_000;

export interface ResolvedSim {
  model: string;
  shape: ModelShape;
  profile: Profile;
  yaml: SimYaml;
  maxBatchSize: number;
  maxNumTokens: number;
  /** max_seq_len as asked. */
  maxSeqLenRequested: number;
  /** max_seq_len after clamping to what the GPU pool holds (TensorRT-LLM does the same). */
  maxSeqLen: number;
  tokensPerBlock: number;
  gpuBlocks: number;
  hostBlocks: number;
  blockBytes: number;
  enableChunkedPrefill: boolean;
  iterStatsMaxIterations: number;
  seed: number;
  timeScale: number;
  clock: 'real' | 'virtual';
  legacyMetrics: boolean;
  /** Lines for the log: clamps, ignored options. */
  notices: string[];
}

function kvDtype(d: SimYaml['kv_cache_config']['dtype']): KvDtype | undefined {
  if (d === undefined || d === 'auto') return undefined;
  if (d === 'fp8') return 'fp8';
  return d === 'fp16' || d === 'float16' ? 'fp16' : 'bf16';
}

export function resolveSim(o: SimOptions): ResolvedSim {
  const yaml = typeof o.config === 'string' ? loadSimYaml(o.config) : (o.config ?? parseSimYaml({}));
  const kv = yaml.kv_cache_config;
  const notices: string[] = [];
  const profile =
    typeof o.profile === 'object' ? o.profile : loadProfile(o.profile ?? defaultProfileForSystem(o.system ?? 'pcie'));
  const tp = o.tp ?? yaml.tensor_parallel_size ?? 1;
  const shape = resolveModelShape(o.model, { shape: o.modelShape, tp, dtype: kvDtype(kv.dtype) });
  // trtllm-serve lets the YAML override the flags.
  const maxBatchSize = yaml.max_batch_size ?? o.maxBatchSize ?? TRTLLM_DEFAULTS.maxBatchSize;
  const maxNumTokens = yaml.max_num_tokens ?? o.maxNumTokens ?? TRTLLM_DEFAULTS.maxNumTokens;
  const maxSeqLenRequested = yaml.max_seq_len ?? o.maxSeqLen ?? TRTLLM_DEFAULTS.maxSeqLen;
  const tpb = kv.tokens_per_block;
  const perToken = kvBytesPerTokenPerRank(shape);

  let poolTokens: number;
  const memGB = profile.compute.memory_GB;
  const fromMemory = memGB ? Math.floor((kv.free_gpu_memory_fraction * (memGB * 1e9 - weightBytesPerRank(shape))) / perToken) : undefined;
  if (kv.max_tokens !== undefined) {
    poolTokens = fromMemory !== undefined && fromMemory > 0 ? Math.min(kv.max_tokens, fromMemory) : kv.max_tokens;
    if (poolTokens < kv.max_tokens)
      notices.push(`kv_cache_config.max_tokens ${kv.max_tokens} exceeds what free_gpu_memory_fraction leaves on ${profile.name}; pool is ${poolTokens} tokens`);
  } else {
    if (fromMemory === undefined || fromMemory <= 0)
      throw new ConfigError(`kv_cache_config.max_tokens is required: profile ${profile.name} gives no GPU memory size the pool could be sized from, or the weights do not fit`, 'kv_cache_config.max_tokens');
    poolTokens = fromMemory;
  }
  const gpuBlocks = Math.floor(poolTokens / tpb);
  if (gpuBlocks < 1) throw new ConfigError(`kv_cache_config.max_tokens ${poolTokens} is less than one block of ${tpb} tokens`, 'kv_cache_config.max_tokens');
  const blockBytes = tpb * perToken;
  const hostBlocks = Math.floor(kv.host_cache_size / blockBytes);

  let maxSeqLen = maxSeqLenRequested;
  if (kv.max_attention_window) maxSeqLen = Math.min(maxSeqLen, Math.min(...kv.max_attention_window));
  if (maxSeqLen > gpuBlocks * tpb) {
    maxSeqLen = gpuBlocks * tpb;
    notices.push(
      `maxAttentionWindow and maxSequenceLen are too large for at least one sequence to fit in kvCache. they are reduced to ${maxSeqLen} ` +
        `(as TensorRT-LLM does: kv_cache_config.max_tokens gives ${gpuBlocks} blocks of ${tpb} tokens; longer requests are rejected with 400)`,
    );
  }
  let enableChunkedPrefill = yaml.enable_chunked_prefill;
  if (enableChunkedPrefill === undefined) {
    enableChunkedPrefill = true;
    notices.push('enable_chunked_prefill not set: the simulator chunks prefill (TensorRT-LLM defaults to false and then rejects prompts longer than max_num_tokens)');
  }
  for (const k of ['enable_partial_reuse', 'copy_on_partial_reuse'] as const)
    if (kv[k] !== undefined) notices.push(`kv_cache_config.${k} accepted but not modelled (only full blocks are reused)`);

  const timeScale = o.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new ConfigError(`time scale must be a positive number, got ${timeScale}`, 'time_scale');
  return {
    model: o.model,
    shape,
    profile,
    yaml,
    maxBatchSize,
    maxNumTokens,
    maxSeqLenRequested,
    maxSeqLen,
    tokensPerBlock: tpb,
    gpuBlocks,
    hostBlocks,
    blockBytes,
    enableChunkedPrefill,
    // Virtual clock: iterations run at the CPU's pace between two reads of /metrics, so the queue's
    // default is larger (the driver still pauses at half of it until a read: virtual-driver.ts).
    iterStatsMaxIterations: yaml.iter_stats_max_iterations ?? ((o.clock ?? 'real') === 'virtual' ? VIRTUAL_ITER_STATS_MAX : DEFAULT_ITER_STATS_MAX),
    seed: o.seed ?? 0,
    timeScale,
    clock: o.clock ?? 'real',
    legacyMetrics: o.legacyMetrics ?? false,
    notices,
  };
}
