/**
 * What `kvbench workload show` prints: a workload described as a reader needs it. The original
 * batches keep their parameters and context sizes; a scenario (a trace above all) gets where it came
 * from (the generator's parameters or the import's options), how it was sampled, and its prompt
 * lengths as a distribution, not a list of every length.
 */
import type { AnyWorkload, PromptLengths } from '@kvbench/common';
import { summarizeWorkload } from './serialize.js';

export interface WorkloadDescription {
  id: string;
  kind: string;
  bytes: number;
  requests: number;
  prompts: number;
  /** Tokens of every request together, repeats included. */
  request_tokens: number;
  /** Tokens of the prefix tree of every prompt (exact: a shared prefix counts once). */
  distinct_tokens: number;
  /** The original batches' generator parameters, or the scenario's (the import's options for a trace). */
  source: Record<string, unknown>;
  /** How a trace was sub-sampled (units, kept and dropped), or null when it was not. */
  sampling: Record<string, unknown> | null;
  /** The original batches: their context sizes. Scenarios: null (see prompt_tokens). */
  contexts: number[] | null;
  batches: number | null;
  /** The summary's prompt_lengths (WorkloadSummary.prompt_lengths). */
  prompt_tokens: PromptLengths;
  /** Scheduled arrivals (requests released at a time): first and last, ms from the start. */
  arrivals_ms: { first: number; last: number; timed_requests: number } | null;
}

export function describeWorkload(doc: AnyWorkload): WorkloadDescription {
  const s = summarizeWorkload(doc);
  if (doc.version === 2) {
    const timed = doc.requests.flatMap((r) => (r.release.type === 'at' ? [r.release.at_ms] : []));
    const { sampling, ...source } = doc.params as Record<string, unknown>;
    return {
      id: s.id,
      kind: doc.kind,
      bytes: s.bytes,
      requests: s.requests,
      prompts: s.prompts,
      request_tokens: s.request_tokens,
      distinct_tokens: s.prompt_tokens,
      source,
      sampling: sampling && typeof sampling === 'object' ? (sampling as Record<string, unknown>) : null,
      contexts: null,
      batches: null,
      prompt_tokens: s.prompt_lengths,
      arrivals_ms: timed.length ? { first: timed.reduce((a, b) => Math.min(a, b)), last: timed.reduce((a, b) => Math.max(a, b)), timed_requests: timed.length } : null,
    };
  }
  return {
    id: s.id,
    kind: 'legacy',
    bytes: s.bytes,
    requests: s.requests,
    prompts: s.prompts,
    request_tokens: s.request_tokens,
    distinct_tokens: s.prompt_tokens,
    source: { ...doc.params },
    sampling: null,
    contexts: s.contexts,
    batches: s.batches,
    prompt_tokens: s.prompt_lengths,
    arrivals_ms: null,
  };
}
