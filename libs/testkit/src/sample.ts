import type { Sample } from '@kvbench/common';

/**
 * A successful sample with the given identity and timings, the rest filled plausibly: latency 50 ms
 * after the first token, prompt tokens as many as the context, 16 completion tokens, nothing cached.
 * The one sample literal of the tests; a test sets whatever it checks.
 */
export function successfulSample(p: Partial<Sample> & { request_id: string; ttft_s: number | null }): Sample {
  return {
    batch_index: 0,
    index_in_batch: 0,
    prompt_id: `p-${p.request_id}`,
    context_tokens: 1024,
    phase: 'cold',
    scheduled_at_s: 0,
    latency_s: p.ttft_s === null ? null : p.ttft_s + 0.05,
    itl_s: [],
    prompt_tokens_client: p.context_tokens ?? 1024,
    prompt_tokens_server: p.context_tokens ?? 1024,
    completion_tokens_client: 16,
    completion_tokens_server: 16,
    cached_tokens: 0,
    ok: true,
    error: null,
    server: null,
    ...p,
  };
}
