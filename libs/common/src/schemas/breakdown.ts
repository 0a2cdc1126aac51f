import { z } from 'zod';

const nn = z.number().nullable();

/**
 * Where one request's TTFT went, in the same (modelled, when time-scaled) seconds as ttft_s.
 * The five top-level parts run back to back from the scheduled (release) time to the first text:
 *
 *   released ─client_wait─▶ bytes written ─to_engine─▶ engine arrival ─engine_queue─▶ first scheduled
 *            ─first_token─▶ engine's first token ─to_client─▶ first text at the client
 *
 * so when all five are known they add up to ttft_s (to rounding). A part the engine cannot tell is
 * null with its reason in null_reasons. Engine timestamps are put on the agent's clock as `clock`
 * says (same host, or GET /steady_clock_offset); `joined_by` says how the engine's entry was found.
 */
export const TtftBreakdown = z
  .object({
    client_wait_s: nn.describe("released \u2192 request bytes written, seconds"),
    to_engine_s: nn.describe("bytes written \u2192 engine arrival, seconds"),
    engine_queue_s: nn.describe("engine arrival \u2192 first scheduled, seconds"),
    first_token_s: nn.describe("first scheduled \u2192 engine's first token, seconds"),
    /**
     * Inside first_token_s, where the engine can say (the simulator): onboard_s = this request's own
     * host→GPU KV copies (bytes / link bandwidth), prefill_s = its own prefill compute, and
     * batch_other_s = the rest (co-scheduled requests' compute and decode steps, offload copies).
     */
    onboard_s: nn.optional().describe("inside first_token_s: this request's own host \u2192 GPU KV copies, seconds"),
    prefill_s: nn.optional().describe("inside first_token_s: its own prefill compute, seconds"),
    batch_other_s: nn.optional().describe("inside first_token_s: co-scheduled requests' work and offload copies, seconds"),
    to_client_s: nn.describe("engine's first token \u2192 first text at the client, seconds"),
    clock: z.string().nullable().default(null).describe("how engine timestamps were put on the agent's clock (same host, steady_clock_offset)"),
    /** Bound on the clock error inside to_engine_s and to_client_s (seconds, time-scaled); null when unknown. */
    clock_error_s: nn.optional().describe("bound on the clock error inside to_engine_s and to_client_s, seconds; null when unknown"),
    joined_by: z.string().nullable().default(null).describe("how the engine's entry for the request was found"),
    null_reasons: z.record(z.string(), z.string()).default({}).describe("why each null part is null, by part"),
  })
  .loose();
export type TtftBreakdown = z.infer<typeof TtftBreakdown>;

/** The top-level parts, in time order (they sum to ttft_s). */
export const BREAKDOWN_PARTS = ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'first_token_s', 'to_client_s'] as const;
export type BreakdownPart = (typeof BREAKDOWN_PARTS)[number];

/**
 * Where one request's prompt tokens came from. gpu_hit + host_onboarded + recomputed = prompt tokens
 * when all are known. `cached` (= gpu_hit + host_onboarded) is given on its own where an engine tells
 * the total but not the tier (TensorRT-LLM's per-request reused blocks, usage.cached_tokens).
 */
export const RequestTokens = z
  .object({
    gpu_hit: nn.describe("prompt tokens found in the GPU cache"),
    host_onboarded: nn.describe("prompt tokens copied from the host cache"),
    recomputed: nn.describe("prompt tokens computed (prefilled) again"),
    cached: nn.optional().describe("gpu_hit + host_onboarded, where the engine tells the total but not the tier"),
    /** Where the figures come from, e.g. "simulator block manager". */
    source: z.string().nullable().default(null).describe("where the figures come from, e.g. \"simulator block manager\""),
    null_reasons: z.record(z.string(), z.string()).default({}).describe("why each null figure is null, by field"),
  })
  .loose();
export type RequestTokens = z.infer<typeof RequestTokens>;
