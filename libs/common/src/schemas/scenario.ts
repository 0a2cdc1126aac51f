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
    seed: z.number().int(),
    low: z.number().int().nonnegative().default(1000),
    high: z.number().int().positive().default(30000),
  })
  .strict()
  .refine((t) => t.high > t.low, { message: 'high must be above low', path: ['high'] });
export type TokenSpace = z.output<typeof TokenSpace>;
export const DEFAULT_TOKEN_RANGE = { low: 1000, high: 30000 } as const;

/** A deterministic run of token ids: a pure function of the token space's seed and the segment id. */
export const Segment = z.object({ id: z.string().min(1), tokens: z.number().int().positive() }).strict();
export type Segment = z.infer<typeof Segment>;

/** A segment inside a prompt; `tokens` below the segment's length takes only its first tokens (a partial block). */
export const SegmentRef = z.object({ segment: z.string().min(1), tokens: z.number().int().positive().optional() }).strict();
export type SegmentRef = z.infer<typeof SegmentRef>;

export const TokenPrompt = z
  .object({
    id: z.string().min(1),
    /** The prefix's tokens plus the segments' lengths: exactly the number of ids sent. */
    tokens: z.number().int().positive(),
    /**
     * An earlier prompt this one begins with (a session's previous turn): the prompt is that
     * prompt's ids, then its own segments. Keeps a T-turn session's document O(T), not O(T²).
     */
    prefix: z.string().min(1).optional(),
    segments: z.array(SegmentRef).min(1),
  })
  .strict();
export type TokenPrompt = z.infer<typeof TokenPrompt>;

/**
 * When a request may be sent (a concurrency slot may still make it wait; its clock starts here):
 * `at`: at_ms after the run's start; `after`: delay_ms after an earlier request completed.
 */
export const Release = z.discriminatedUnion('type', [
  z.object({ type: z.literal('at'), at_ms: z.number().nonnegative() }).strict(),
  z.object({ type: z.literal('after'), request_id: z.string().min(1), delay_ms: z.number().nonnegative() }).strict(),
]);
export type Release = z.infer<typeof Release>;

export const WorkloadKind = z.enum(['legacy', 'multiturn', 'docqa', 'trace', 'offload']);
export type WorkloadKind = z.infer<typeof WorkloadKind>;

/**
 * A request's place in its scenario, copied onto its sample so reports can group by it. One
 * object, every field optional but `kind`.
 */
export const ScenarioTags = z
  .object({
    kind: WorkloadKind,
    session_id: z.string().optional(),
    /** 1-based turn of a multi-turn session. */
    turn: z.number().int().positive().optional(),
    document_id: z.string().optional(),
    /** 1-based round of a docqa workload (round 1 warms the cache). */
    round: z.number().int().positive().optional(),
    /** Line of the imported trace (1-based). */
    trace_line: z.number().int().positive().optional(),
    /**
     * A trace line's prefix-block ids as imported (Mooncake hash_ids; equal ids = the same KV), each
     * covering trace_block_tokens tokens: what the hit-rate predictor replays through its LRU.
     */
    hash_ids: z.array(z.number().int().nonnegative()).optional(),
    trace_block_tokens: z.number().int().positive().optional(),
    /** Offload sweep step: the first use, eviction traffic, or the measured replay. */
    step: z.enum(['cold', 'evict', 'replay']).optional(),
    /** Tokens at the prompt's start that an earlier request of the workload already sent (segment-exact). */
    reusable_prefix_tokens: z.number().int().nonnegative().optional(),
    sweep_id: z.string().optional(),
    sweep_point: z.string().optional(),
  })
  .strict();
export type ScenarioTags = z.infer<typeof ScenarioTags>;

export const ScheduledRequest = z
  .object({
    request_id: z.string().min(1),
    prompt_id: z.string().min(1),
    /** `cold`: the prompt shares no segment prefix with an earlier request; `reuse`: it does. */
    phase: z.enum(['cold', 'reuse']),
    /** Tokens to generate; the job's output_tokens when absent. */
    output_tokens: z.number().int().positive().optional(),
    release: Release,
    tags: ScenarioTags,
  })
  .strict();
export type ScheduledRequest = z.infer<typeof ScheduledRequest>;

/** Identifies a sweep point: every system runs the same document, so the point's runs pair. */
export const SweepTag = z.object({ id: z.string().min(1), point: z.string().min(1) }).strict();

export const ScenarioWorkload = z
  .object({
    schema: z.literal('kvbench.workload'),
    version: z.literal(2),
    kind: WorkloadKind.exclude(['legacy']),
    /** Prompts are token ids, not text: no tokenizer is involved. */
    tokenizer: z.literal('token-ids'),
    token_space: TokenSpace,
    /** What generated it (the kind's parameters, or the import's options). */
    params: z.record(z.string(), z.unknown()),
    /** At most this many requests in flight; null: only the job's max_batch_size. */
    max_concurrency: z.number().int().positive().nullable(),
    sweep: SweepTag.nullable().default(null),
    segments: z.array(Segment).min(1),
    prompts: z.array(TokenPrompt).min(1),
    requests: z.array(ScheduledRequest).min(1),
  })
  .strict();
export type ScenarioWorkload = z.output<typeof ScenarioWorkload>;

// ---- kind parameters (CLI flags and POST /workloads share them) ----

/** A length or count: a constant, or drawn per use (seeded) from uniform [min, max] or a capped lognormal. */
export const LengthSpec = z.union([
  z.number().int().nonnegative(),
  z.object({ dist: z.literal('uniform'), min: z.number().int().nonnegative(), max: z.number().int().nonnegative() }).strict()
    .refine((d) => d.max >= d.min, { message: 'max must be at least min', path: ['max'] }),
  z.object({ dist: z.literal('lognormal'), mean: z.number().positive(), sigma: z.number().nonnegative(), max: z.number().int().positive().optional() }).strict(),
]);
export type LengthSpec = z.infer<typeof LengthSpec>;

const tokenRange = {
  token_low: z.number().int().nonnegative().default(DEFAULT_TOKEN_RANGE.low),
  token_high: z.number().int().positive().default(DEFAULT_TOKEN_RANGE.high),
};

export const MultiturnParams = z
  .object({
    kind: z.literal('multiturn'),
    sessions: z.number().int().positive(),
    turns: LengthSpec.refine((t) => typeof t !== 'number' || t > 0, 'at least one turn'),
    shared_prefix_tokens: z.number().int().nonnegative().default(0),
    session_context_tokens: LengthSpec.default(0),
    turn_tokens: LengthSpec.refine((t) => typeof t !== 'number' || t > 0, 'at least one token'),
    answer_tokens: z.number().int().positive(),
    active_sessions: z.number().int().positive(),
    think_time_ms: z.number().nonnegative().default(0),
    seed: z.number().int().default(42),
    ...tokenRange,
  })
  .strict();
export type MultiturnParams = z.output<typeof MultiturnParams>;

export const Arrival = z.enum(['closed', 'poisson', 'gamma']);
export const ArrivalParams = {
  arrival: Arrival.default('closed'),
  /** Requests per second (poisson, gamma). */
  rate: z.number().positive().optional(),
  /** Gamma shape; 1 is Poisson (vLLM's --burstiness). */
  burstiness: z.number().positive().default(1),
  max_concurrency: z.number().int().positive().optional(),
};

export const DocqaParams = z
  .object({
    kind: z.literal('docqa'),
    documents: z.number().int().positive(),
    document_tokens: z.number().int().positive(),
    /** Questions about each document in each round. */
    questions: z.number().int().positive().default(1),
    question_tokens: z.number().int().positive(),
    order: z.enum(['tile', 'interleave', 'random']).default('tile'),
    rounds: z.number().int().positive().default(2),
    answer_tokens: z.number().int().positive().optional(),
    seed: z.number().int().default(42),
    ...ArrivalParams,
    ...tokenRange,
  })
  .strict();
export type DocqaParams = z.output<typeof DocqaParams>;

/** Parameters of a generated (not imported) scenario workload, as POST /workloads takes them. */
export const ScenarioParams = z.discriminatedUnion('kind', [MultiturnParams, DocqaParams]);
export type ScenarioParams = z.output<typeof ScenarioParams>;
