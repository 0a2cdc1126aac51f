import { z } from 'zod';

/**
 * Scenario workloads (version 2 of the workload document): prompts made of token-id segments and
 * requests released by conditions, for the experiments of SCENARIOS.md (multi-turn sessions,
 * shared documents, offload vs recompute, trace replay). The original batches stay version 1.
 */

/**
 * Where segment token ids are drawn from: uniformly in [low, high). The default range avoids the
 * special tokens of the common vocabularies: Llama 2 / Mistral keep 0-258 for control and byte
 * tokens in a 32000-token vocabulary, Llama 3 its specials at 128000+, Qwen2 at 151643+, cl100k at
 * 100256+; [1000, 30000) is an ordinary token in each of them.
 */
export const TokenSpace = z
  .object({
    seed: z.number().int().describe('seed of the token ids: segment ids map to the same tokens on every system'),
    low: z.number().int().nonnegative().default(1000).describe('lowest token id drawn'),
    high: z.number().int().positive().default(30000).describe('token ids are drawn below this'),
  })
  .strict()
  .describe('where segment token ids are drawn from: uniformly in [low, high)')
  .refine((t) => t.high > t.low, { message: 'high must be above low', path: ['high'] });
export type TokenSpace = z.output<typeof TokenSpace>;
export const DEFAULT_TOKEN_RANGE = { low: 1000, high: 30000 } as const;

/** A deterministic run of token ids: a pure function of the token space's seed and the segment id. */
export const Segment = z
  .object({ id: z.string().min(1).describe('segment id (its tokens derive from it)'), tokens: z.number().int().positive().describe('length in tokens') })
  .strict();
export type Segment = z.infer<typeof Segment>;

/** A segment inside a prompt; `tokens` below the segment's length takes only its first tokens (a partial block). */
export const SegmentRef = z
  .object({
    segment: z.string().min(1).describe('id of a segment'),
    tokens: z.number().int().positive().optional().describe("take only the segment's first tokens; all of it when absent"),
  })
  .strict();
export type SegmentRef = z.infer<typeof SegmentRef>;

export const TokenPrompt = z
  .object({
    id: z.string().min(1).describe('prompt id, referred to by requests'),
    tokens: z.number().int().positive().describe("the prefix's tokens plus the segments' lengths: exactly the number of ids sent"),
    /**
     * An earlier prompt this one begins with (a session's previous turn): the prompt is that
     * prompt's ids, then its own segments. Keeps a T-turn session's document O(T), not O(T²).
     */
    prefix: z.string().min(1).optional().describe("an earlier prompt this one begins with (a session's previous turn)"),
    segments: z.array(SegmentRef).min(1).describe('segments after the prefix, in order'),
  })
  .strict();
export type TokenPrompt = z.infer<typeof TokenPrompt>;

/**
 * When a request may be sent (a concurrency slot may still make it wait; its clock starts here):
 * `at`: at_ms after the run's start; `after`: delay_ms after an earlier request completed.
 */
export const Release = z.discriminatedUnion('type', [
  z.object({ type: z.literal('at').describe('at a fixed time'), at_ms: z.number().nonnegative().describe("milliseconds after the run's start") }).strict(),
  z
    .object({
      type: z.literal('after').describe('after an earlier request completed'),
      request_id: z.string().min(1).describe('that earlier request'),
      delay_ms: z.number().nonnegative().describe('milliseconds after it completed'),
    })
    .strict(),
]).describe('when the request may be sent (a concurrency slot may still make it wait)');
export type Release = z.infer<typeof Release>;

export const WorkloadKind = z
  .enum(['legacy', 'multiturn', 'docqa', 'trace', 'offload'])
  .describe('legacy: the original batches; multiturn: chat sessions; docqa: questions over shared documents; trace: an imported trace; offload: an offload sweep point');
export type WorkloadKind = z.infer<typeof WorkloadKind>;

/**
 * A request's place in its scenario, copied onto its sample so reports can group by it. One
 * object, every field optional but `kind`.
 */
export const ScenarioTags = z
  .object({
    kind: WorkloadKind,
    session_id: z.string().optional().describe('multi-turn session'),
    turn: z.number().int().positive().optional().describe('1-based turn of a multi-turn session'),
    document_id: z.string().optional().describe('docqa document'),
    round: z.number().int().positive().optional().describe('1-based round of a docqa workload (round 1 warms the cache)'),
    trace_line: z.number().int().positive().optional().describe('line of the imported trace (1-based)'),
    hash_ids: z
      .array(z.number().int().nonnegative())
      .optional()
      .describe("a trace line's prefix-block ids as imported (Mooncake hash_ids; equal ids = the same KV), each covering trace_block_tokens tokens"),
    trace_block_tokens: z.number().int().positive().optional().describe('tokens per hash_ids block of the imported trace'),
    step: z.enum(['cold', 'evict', 'replay']).optional().describe('offload sweep step: the first use, eviction traffic, or the measured replay'),
    reusable_prefix_tokens: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe("tokens at the prompt's start that an earlier request of the workload already sent (segment-exact)"),
    sweep_id: z.string().optional().describe('sweep this request belongs to'),
    sweep_point: z.string().optional().describe('point of that sweep'),
  })
  .strict()
  .describe("the request's place in its scenario, copied onto its sample");
export type ScenarioTags = z.infer<typeof ScenarioTags>;

export const ScheduledRequest = z
  .object({
    request_id: z.string().min(1).describe('stable across systems: pairs the same request on both machines'),
    prompt_id: z.string().min(1).describe('id of the prompt it sends'),
    phase: z.enum(['cold', 'reuse']).describe('cold: shares no segment prefix with an earlier request; reuse: it does'),
    output_tokens: z.number().int().positive().optional().describe("tokens to generate; the job's output_tokens when absent"),
    release: Release,
    tags: ScenarioTags,
  })
  .strict();
export type ScheduledRequest = z.infer<typeof ScheduledRequest>;

/** Identifies a sweep point: every system runs the same document, so the point's runs pair. */
export const SweepTag = z
  .object({ id: z.string().min(1).describe('sweep id'), point: z.string().min(1).describe('point within the sweep') })
  .strict();

export const ScenarioWorkload = z
  .object({
    schema: z.literal('kvbench.workload').describe('document type'),
    version: z.literal(2).describe('2: a scenario of token-id prompts'),
    kind: WorkloadKind.exclude(['legacy']).describe('scenario kind'),
    tokenizer: z.literal('token-ids').describe('prompts are token ids, not text: no tokenizer is involved'),
    token_space: TokenSpace,
    params: z.record(z.string(), z.unknown()).describe("what generated it (the kind's parameters, or the import's options)"),
    max_concurrency: z.number().int().positive().nullable().describe("at most this many requests in flight; null: only the job's max_batch_size"),
    sweep: SweepTag.nullable().default(null).describe('the sweep point this document is; null otherwise'),
    segments: z.array(Segment).min(1).describe('token-id runs the prompts are made of'),
    prompts: z.array(TokenPrompt).min(1).describe('distinct prompts'),
    requests: z.array(ScheduledRequest).min(1).describe('requests with their release conditions'),
  })
  .strict();
export type ScenarioWorkload = z.output<typeof ScenarioWorkload>;

// ---- kind parameters (CLI flags and POST /workloads share them) ----

/** A length or count: a constant, or drawn per use (seeded) from uniform [min, max] or a capped lognormal. */
export const LengthSpec = z.union([
  z.number().int().nonnegative(),
  z
    .object({
      dist: z.literal('uniform').describe('uniform in [min, max]'),
      min: z.number().int().nonnegative().describe('smallest value'),
      max: z.number().int().nonnegative().describe('largest value'),
    })
    .strict()
    .refine((d) => d.max >= d.min, { message: 'max must be at least min', path: ['max'] }),
  z
    .object({
      dist: z.literal('lognormal').describe('lognormal, capped at max'),
      mean: z.number().positive().describe('mean of the distribution'),
      sigma: z.number().nonnegative().describe('sigma of the underlying normal'),
      max: z.number().int().positive().optional().describe('cap'),
    })
    .strict(),
]).describe('a constant, or drawn per use (seeded) from {"dist":"uniform",min,max} or {"dist":"lognormal",mean,sigma,max}');
export type LengthSpec = z.infer<typeof LengthSpec>;

const tokenRange = {
  token_low: z.number().int().nonnegative().default(DEFAULT_TOKEN_RANGE.low).describe('lowest token id drawn'),
  token_high: z.number().int().positive().default(DEFAULT_TOKEN_RANGE.high).describe('token ids are drawn below this'),
};

export const MultiturnParams = z
  .object({
    kind: z.literal('multiturn').describe('chat sessions whose every turn resends the conversation so far'),
    sessions: z.number().int().positive().describe('number of sessions'),
    turns: LengthSpec.refine((t) => typeof t !== 'number' || t > 0, 'at least one turn').describe('turns per session'),
    shared_prefix_tokens: z.number().int().nonnegative().default(0).describe('system prompt shared by every session, in tokens'),
    session_context_tokens: LengthSpec.default(0).describe("each session's own context before its first turn, in tokens"),
    turn_tokens: LengthSpec.refine((t) => typeof t !== 'number' || t > 0, 'at least one token').describe('new user tokens per turn'),
    answer_tokens: z.number().int().positive().describe('tokens generated per turn (and appended to the conversation)'),
    active_sessions: z.number().int().positive().describe('sessions in progress at once'),
    think_time_ms: z.number().nonnegative().default(0).describe("pause between a turn's answer and the next turn, in milliseconds"),
    seed: z.number().int().default(42).describe('random seed'),
    ...tokenRange,
  })
  .strict();
export type MultiturnParams = z.output<typeof MultiturnParams>;

export const Arrival = z
  .enum(['closed', 'poisson', 'gamma'])
  .describe('closed: the next request when one finishes; poisson or gamma: open-loop arrivals at `rate`');
export const ArrivalParams = {
  arrival: Arrival.default('closed'),
  /** Requests per second (poisson, gamma). */
  rate: z.number().positive().optional().describe('requests per second (poisson, gamma)'),
  burstiness: z.number().positive().default(1).describe("gamma shape; 1 is Poisson (vLLM's --burstiness)"),
  max_concurrency: z.number().int().positive().optional().describe('at most this many requests in flight'),
};

export const DocqaParams = z
  .object({
    kind: z.literal('docqa').describe('questions over shared documents: the document is the reusable prefix'),
    documents: z.number().int().positive().describe('number of documents'),
    document_tokens: z.number().int().positive().describe('tokens per document'),
    questions: z.number().int().positive().default(1).describe('questions about each document in each round'),
    question_tokens: z.number().int().positive().describe('tokens per question'),
    order: z.enum(['tile', 'interleave', 'random']).default('tile').describe("tile: a document's questions together; interleave: round-robin over documents; random"),
    rounds: z.number().int().positive().default(2).describe('rounds over all documents (round 1 warms the cache)'),
    answer_tokens: z.number().int().positive().optional().describe("tokens generated per question; the job's output_tokens when absent"),
    seed: z.number().int().default(42).describe('random seed'),
    ...ArrivalParams,
    ...tokenRange,
  })
  .strict();
export type DocqaParams = z.output<typeof DocqaParams>;

/** Parameters of a generated (not imported) scenario workload, as POST /workloads takes them. */
export const ScenarioParams = z.discriminatedUnion('kind', [MultiturnParams, DocqaParams]);
export type ScenarioParams = z.output<typeof ScenarioParams>;
