import { z } from 'zod';
import { ScenarioWorkload, WorkloadKind } from './scenario.js';

/** Parameters of the original workload_generator.py, with its defaults. */
export const WorkloadParams = z
  .object({
    contexts: z.array(z.number().int().positive()).min(1).describe('Target context sizes in tokens'),
    batches_per_context: z.number().int().positive().default(5),
    batch_sizes: z.array(z.number().int().positive()).min(1).default([8, 16, 32]),
    prompt_pool_size: z.number().int().positive().default(16),
    reuse_start_batch: z.number().int().nonnegative().default(3),
    delay_ms: z.number().nonnegative().default(0),
    seed: z.number().int().default(42),
  })
  .strict();
export type WorkloadParams = z.output<typeof WorkloadParams>;

export const TOKENIZER = 'cl100k_base';

/** A distinct prompt, stored once; requests refer to it by id. */
export const WorkloadPrompt = z.object({
  id: z.string().min(1),
  context_tokens: z.number().int().positive(),
  /** Exact token count of `text` under the workload's tokenizer. */
  tokens: z.number().int().nonnegative(),
  text: z.string(),
});
export type WorkloadPrompt = z.infer<typeof WorkloadPrompt>;

export const WorkloadRequest = z.object({
  /** Stable across systems: pairs the same request of the same workload on both machines. */
  request_id: z.string().min(1),
  prompt_id: z.string().min(1),
  /** `cold`: first use of the prompt in the workload; `reuse`: an exact repeat of an earlier request's prompt. */
  phase: z.enum(['cold', 'reuse']),
});
export type WorkloadRequest = z.infer<typeof WorkloadRequest>;

export const WorkloadBatch = z.object({
  index: z.number().int().nonnegative(),
  context_tokens: z.number().int().positive(),
  /** Scheduled pause before this batch starts. */
  delay_ms: z.number().nonnegative(),
  requests: z.array(WorkloadRequest).min(1),
});
export type WorkloadBatch = z.infer<typeof WorkloadBatch>;

/** kvbench's native compact workload document of the original batches (text prompts). */
export const WorkloadDocument = z.object({
  schema: z.literal('kvbench.workload'),
  version: z.literal(1),
  tokenizer: z.string().default(TOKENIZER),
  /** Generation parameters; null when the document was imported from another format. */
  params: WorkloadParams.nullable(),
  prompts: z.array(WorkloadPrompt).min(1),
  batches: z.array(WorkloadBatch).min(1),
});
export type WorkloadDocument = z.infer<typeof WorkloadDocument>;

/**
 * Either native document: the original batches (version 1, WorkloadDocument) or a scenario of
 * token-id segments (version 2, ScenarioWorkload). What the runner replays and the services store.
 */
export const AnyWorkload = z.discriminatedUnion('version', [WorkloadDocument, ScenarioWorkload]);
export type AnyWorkload = WorkloadDocument | ScenarioWorkload;

/** The original tool's format: a list of batches, each repeating full prompt text. */
export const SeedBatch = z
  .object({
    batch_prompts: z.array(z.string()).min(1),
    context_tokens: z.number().int().positive(),
    scheduled_delay_ms: z.number().nonnegative().default(0),
  })
  .loose();
export const SeedWorkload = z.union([
  z.array(SeedBatch).min(1),
  z.object({ batches: z.array(SeedBatch).min(1) }).loose().transform((o) => o.batches),
]);
export type SeedWorkload = z.output<typeof SeedWorkload>;

/** Summary of a stored workload (what GET /workloads/:id answers without the prompt text). */
export const WorkloadSummary = z.object({
  id: z.string(),
  params: WorkloadParams.nullable(),
  prompts: z.number().int(),
  requests: z.number().int(),
  batches: z.number().int(),
  contexts: z.array(z.number().int()),
  bytes: z.number().int(),
  /** Absent for the original batches (legacy). */
  kind: WorkloadKind.optional(),
});
export type WorkloadSummary = z.infer<typeof WorkloadSummary>;
