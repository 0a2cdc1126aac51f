import { z } from 'zod';

/** System labels become NATS subject tokens and SQLite keys: keep them tame. */
export const SystemLabel = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, - and _, at most 32 characters')
  .describe('system (machine) label, e.g. pcie or c2c: jobs go to the agents of this label');

/** Run ids appear in subjects (kvbench.runs.<runId>.*) so they are subject-safe. */
export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _, at most 64 characters')
  .describe('run id, as POST /runs answered it')
  .meta({ examples: ['run-mfz1k2a0-3f9c2b7d1e'] });

export const EngineKind = z
  .enum(['sim', 'trtllm', 'openai'])
  .describe('sim: the built-in simulator (results labelled simulated); trtllm: TensorRT-LLM trtllm-serve; openai: an OpenAI-compatible server (vLLM, SGLang) attached by url');
export type EngineKind = z.infer<typeof EngineKind>;

/** The four per-system overrides of the original (--pcie_* / --c2c_*). */
export const KvOverrides = z
  .object({
    // Bounds (issue 25) are kvbench's: far past any GPU or host of today, small enough that no
    // engine is handed a number it cannot hold (2^31-1: a 32-bit token count).
    gpu_kv_max_tokens: z.number().int().positive().max(2 ** 31 - 1).optional().describe('GPU KV-cache pool, in tokens (TensorRT-LLM kv_cache_config.max_tokens)'),
    tokens_per_block: z.number().int().positive().max(1024).optional().describe('tokens per KV-cache block'),
    host_cache_gb: z.number().nonnegative().max(65_536).optional().describe('host (CPU) memory for offloaded KV blocks, in GiB; 0 turns offload off'),
    enable_reuse: z.boolean().optional().describe('reuse cached KV blocks of a repeated prefix'),
  })
  .strict()
  .describe("changes to the preset's KV-cache settings (the original --pcie_* / --c2c_* flags)");
export type KvOverrides = z.infer<typeof KvOverrides>;

export const EngineSpec = z
  .object({
    kind: EngineKind.default('sim'),
    url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional().describe('attach to an already running server at this URL (http or https; allow-listed by the operator) instead of launching one'),
    launch_command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('custom launch argv (no shell), e.g. ["mpirun","-n","4","trtllm-serve"]; off unless the server allows it'),
    options: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .default({})
      .describe('engine-kind specific options (simulator profile, model shape, time_scale...)'),
  })
  .strict();
export type EngineSpec = z.infer<typeof EngineSpec>;

/** Default generated length: short, since kvbench studies TTFT and reuse, not decode. */
export const DEFAULT_OUTPUT_TOKENS = 16;

/** Everything an agent needs to run one benchmark; published on kvbench.jobs.<system_label>. */
export const Job = z.object({
  schema: z.literal('kvbench.job').describe('document type'),
  version: z.literal(1).describe('job format version'),
  run_id: RunId,
  workload_id: z.string().min(1).describe('id of the stored workload to replay'),
  system_label: SystemLabel,
  model: z.string().min(1).describe('model name or path the engine serves'),
  engine: EngineSpec.describe('which engine runs it and how'),
  config_module: z.string().min(1).describe('KV offload preset (config_pcie, config_c2c)'),
  overrides: KvOverrides.default({}),
  max_batch_size: z.number().int().positive().describe('engine maximum batch size, in requests'),
  max_seq_len: z.number().int().positive().describe('engine maximum sequence length (prompt + output), in tokens'),
  output_tokens: z.number().int().positive().describe('tokens generated per request'),
  temperature: z.number().min(0).describe('sampling temperature; 0 is greedy'),
  top_p: z.number().gt(0).max(1).describe('nucleus sampling probability mass, (0, 1]'),
  notes: z.string().default('').describe('free text kept with the run'),
  submitted_at: z.string().describe('when the run was accepted (ISO 8601)'),
});
export type Job = z.infer<typeof Job>;

/**
 * A job as it sits on kvbench.jobs.<system_label>: the Job plus the run's key, which signs every
 * event of the run (issue 25, @kvbench/bus signing.ts). Only here: the accepted event and every
 * document served over REST carry the Job without it. Absent when the services run without
 * EVENT_SIGNING_SECRET (events then go unsigned).
 */
export const JobMessage = Job.extend({
  run_key: z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits').optional().describe("the run's event-signing key (HMAC-SHA256, hex)"),
});
export type JobMessage = z.infer<typeof JobMessage>;
