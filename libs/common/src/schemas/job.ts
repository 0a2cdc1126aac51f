import { z } from 'zod';

/** System labels become NATS subject tokens and SQLite keys: keep them tame. */
export const SystemLabel = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, - and _, at most 32 characters');

/** Run ids appear in subjects (kvbench.runs.<runId>.*) so they are subject-safe. */
export const RunId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _, at most 64 characters');

export const EngineKind = z.enum(['sim', 'trtllm', 'openai']);
export type EngineKind = z.infer<typeof EngineKind>;

/** The four per-system overrides of the original (--pcie_* / --c2c_*). */
export const KvOverrides = z
  .object({
    // Bounds (issue 25) are kvbench's: far past any GPU or host of today, small enough that no
    // engine is handed a number it cannot hold (2^31-1: a 32-bit token count).
    gpu_kv_max_tokens: z.number().int().positive().max(2 ** 31 - 1).optional(),
    tokens_per_block: z.number().int().positive().max(1024).optional(),
    host_cache_gb: z.number().nonnegative().max(65_536).optional(),
    enable_reuse: z.boolean().optional(),
  })
  .strict();
export type KvOverrides = z.infer<typeof KvOverrides>;

export const EngineSpec = z
  .object({
    kind: EngineKind.default('sim'),
    /** Attach to an already running server instead of launching one (http or https only; allow-listed by the operator). */
    url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional(),
    /** Custom launch argv (no shell), e.g. ["mpirun","-n","4","trtllm-serve"]. */
    launch_command: z.array(z.string().min(1)).min(1).optional(),
    /** Engine-kind specific options (simulator profile, model shape, time scale...). */
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  })
  .strict();
export type EngineSpec = z.infer<typeof EngineSpec>;

/** Default generated length: short, since kvbench studies TTFT and reuse, not decode. */
export const DEFAULT_OUTPUT_TOKENS = 16;

/** Everything an agent needs to run one benchmark; published on kvbench.jobs.<system_label>. */
export const Job = z.object({
  schema: z.literal('kvbench.job'),
  version: z.literal(1),
  run_id: RunId,
  workload_id: z.string().min(1),
  system_label: SystemLabel,
  model: z.string().min(1),
  engine: EngineSpec,
  config_module: z.string().min(1),
  overrides: KvOverrides.default({}),
  max_batch_size: z.number().int().positive(),
  max_seq_len: z.number().int().positive(),
  output_tokens: z.number().int().positive(),
  temperature: z.number().min(0),
  top_p: z.number().gt(0).max(1),
  notes: z.string().default(''),
  submitted_at: z.string(),
});
export type Job = z.infer<typeof Job>;
