import { z } from 'zod';
import { ScenarioWorkload, WorkloadKind } from './scenario.js';

/** Parameters of the original workload_generator.py, with its defaults. */
export const WorkloadParams = z
  .object({
    contexts: z.array(z.number().int().positive()).min(1).describe('Target context sizes in tokens'),
    batches_per_context: z.number().int().positive().default(5).describe('batches generated for each context size'),
    batch_sizes: z.array(z.number().int().positive()).min(1).default([8, 16, 32]).describe('requests per batch, cycled through batch after batch'),
    prompt_pool_size: z.number().int().positive().default(16).describe('distinct prompts per context size; later batches repeat them (reuse)'),
    reuse_start_batch: z.number().int().nonnegative().default(3).describe('index of the first batch that repeats earlier prompts (0-based)'),
    delay_ms: z.number().nonnegative().default(0).describe('pause before each batch, in milliseconds'),
    seed: z.number().int().default(42).describe('random seed: the same parameters and seed give the same workload (and id)'),
  })
  .strict();
export type WorkloadParams = z.output<typeof WorkloadParams>;

export const TOKENIZER = 'cl100k_base';

/** A distinct prompt, stored once; requests refer to it by id. */
export const WorkloadPrompt = z.object({
  id: z.string().min(1).describe('prompt id, referred to by requests'),
  context_tokens: z.number().int().positive().describe('the context size (tokens) this prompt was generated for'),
  tokens: z.number().int().nonnegative().describe("exact token count of `text` under the workload's tokenizer"),
  text: z.string().describe('the prompt text'),
});
export type WorkloadPrompt = z.infer<typeof WorkloadPrompt>;

export const WorkloadRequest = z.object({
  request_id: z.string().min(1).describe('stable across systems: pairs the same request of the same workload on both machines'),
  prompt_id: z.string().min(1).describe('id of the prompt this request sends'),
  phase: z.enum(['cold', 'reuse']).describe("cold: first use of the prompt in the workload; reuse: an exact repeat of an earlier request's prompt"),
});
export type WorkloadRequest = z.infer<typeof WorkloadRequest>;

export const WorkloadBatch = z.object({
  index: z.number().int().nonnegative().describe('position of the batch, 0-based'),
  context_tokens: z.number().int().positive().describe('context size of its prompts, in tokens'),
  delay_ms: z.number().nonnegative().describe('scheduled pause before this batch starts, in milliseconds'),
  requests: z.array(WorkloadRequest).min(1).describe('requests sent together as one batch'),
});
export type WorkloadBatch = z.infer<typeof WorkloadBatch>;

/** kvbench's native compact workload document of the original batches (text prompts). */
export const WorkloadDocument = z.object({
  schema: z.literal('kvbench.workload').describe('document type'),
  version: z.literal(1).describe('1: the original batches of text prompts'),
  tokenizer: z.string().default(TOKENIZER).describe('tokenizer the token counts are exact under'),
  params: WorkloadParams.nullable().describe('generation parameters; null when the document was imported from another format'),
  prompts: z.array(WorkloadPrompt).min(1).describe('distinct prompts, each stored once'),
  batches: z.array(WorkloadBatch).min(1).describe('batches in the order they are sent'),
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
    batch_prompts: z.array(z.string()).min(1).describe('full prompt texts of the batch'),
    context_tokens: z.number().int().positive().describe('context size of the batch, in tokens'),
    scheduled_delay_ms: z.number().nonnegative().default(0).describe('pause before the batch, in milliseconds'),
  })
  .loose();
export const SeedWorkload = z.union([
  z.array(SeedBatch).min(1),
  z.object({ batches: z.array(SeedBatch).min(1).describe('the batches') }).loose().transform((o) => o.batches),
]);
export type SeedWorkload = z.output<typeof SeedWorkload>;

/** Prompt lengths of a workload's requests as a distribution: a trace of 12,000 lines has as many lengths. */
export const PromptLengths = z
  .object({
    requests: z.number().int().describe('requests counted (repeats included)'),
    min: z.number().int().nullable().describe('shortest prompt, in tokens; null without requests'),
    p50: z.number().nullable().describe('median prompt length, in tokens (linear interpolation)'),
    p90: z.number().nullable().describe('90th percentile of prompt length, in tokens'),
    p99: z.number().nullable().describe('99th percentile of prompt length, in tokens'),
    max: z.number().int().nullable().describe('longest prompt, in tokens; null without requests'),
    mean: z.number().nullable().describe('mean prompt length, in tokens'),
    buckets: z
      .array(
        z.object({
          low: z.number().int().describe('bucket start, in tokens (a power of two, or 0)'),
          high: z.number().int().describe('bucket end, exclusive'),
          requests: z.number().int().describe('requests whose prompt length is in [low, high)'),
        }),
      )
      .describe('requests per power-of-two bucket of prompt tokens, ascending; empty buckets left out'),
  })
  .describe("the requests' prompt lengths as a distribution");
export type PromptLengths = z.infer<typeof PromptLengths>;

/** Summary of a stored workload (what GET /workloads/:id answers without the prompt text). */
export const WorkloadSummary = z.object({
  id: z.string().describe('content id: the same document always gets the same id; use it as workload_id in POST /runs'),
  params: WorkloadParams.nullable().describe('generation parameters; null for an uploaded document'),
  prompts: z.number().int().describe('distinct prompts'),
  requests: z.number().int().describe('requests, repeats included'),
  batches: z.number().int().describe('batches (0 for a scenario)'),
  contexts: z
    .array(z.number().int())
    .nullable()
    .describe('the original batches: their distinct context sizes, in tokens; null for a scenario (every request may have its own length: see prompt_lengths)'),
  prompt_lengths: PromptLengths,
  bytes: z.number().int().describe('size of the stored native document, in bytes'),
  kind: WorkloadKind.optional().describe('scenario kind; absent for the original batches'),
});
export type WorkloadSummary = z.infer<typeof WorkloadSummary>;
