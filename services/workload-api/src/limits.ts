import { LimitError, type AnyWorkload, type LengthSpec, type ScenarioParams, type WorkloadParams } from '@kvbench/common';
import type { Limits } from './config.js';
import { SizeLimitError } from './http-errors.js';

function over(value: number, limit: number, name: string, field: string): void {
  if (value > limit) throw new LimitError(`${field} is ${value}, more than ${name} (${limit})`, field, limit);
}

/**
 * Checks generation parameters before any text is generated, so an oversized request costs nothing.
 * The byte estimate is a lower bound (every token is at least one byte, and each context holds at
 * least min(pool, requests) distinct prompts), so it never rejects a workload that would fit.
 */
export function checkParamsLimits(p: WorkloadParams, limits: Limits): void {
  p.contexts.forEach((c, i) => over(c, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `params.contexts.${i}`));
  p.batch_sizes.forEach((b, i) => over(b, limits.maxBatchSize, 'MAX_BATCH_SIZE', `params.batch_sizes.${i}`));
  over(p.prompt_pool_size, limits.maxPoolSize, 'MAX_POOL_SIZE', 'params.prompt_pool_size');
  const batches = p.contexts.length * p.batches_per_context;
  if (batches > limits.maxBatches) {
    throw new LimitError(
      `contexts × batches_per_context is ${batches} batches, more than MAX_BATCHES (${limits.maxBatches})`,
      'params.batches_per_context',
      limits.maxBatches,
    );
  }
  const minRequestsPerContext = p.batches_per_context * p.batch_sizes.reduce((m, b) => Math.min(m, b), Infinity);
  const minBytes = p.contexts.reduce((sum, c) => sum + c * Math.min(p.prompt_pool_size, minRequestsPerContext), 0);
  if (minBytes > limits.maxWorkloadBytes) {
    throw new SizeLimitError(
      `these parameters make a workload of at least ${minBytes} bytes, more than MAX_WORKLOAD_BYTES (${limits.maxWorkloadBytes})`,
      'params',
      limits.maxWorkloadBytes,
    );
  }
}

const most = (l: LengthSpec): number => (typeof l === 'number' ? l : l.dist === 'uniform' ? l.max : (l.max ?? Infinity));

/**
 * A scenario's prompts are token ids: the document stays small whatever the tokens, so its bytes
 * bound nothing. What bounds the work: the longest prompt (MAX_CONTEXT_TOKENS), the number of
 * requests (MAX_BATCHES × MAX_BATCH_SIZE, what the original batches allow), and the working set,
 * whose ids the agent holds in memory at 4 bytes a token (MAX_WORKLOAD_BYTES / 4).
 */
export function checkScenarioParamsLimits(p: ScenarioParams, limits: Limits): void {
  const maxRequests = limits.maxBatches * limits.maxBatchSize;
  const maxTokens = Math.floor(limits.maxWorkloadBytes / 4);
  if (p.kind === 'multiturn') {
    const turns = most(p.turns);
    const context = most(p.session_context_tokens);
    const user = most(p.turn_tokens);
    if (!Number.isFinite(turns)) throw new LimitError('scenario.turns: a lognormal without max has no bound; give max', 'scenario.turns', maxRequests);
    if (!Number.isFinite(context)) throw new LimitError('scenario.session_context_tokens: a lognormal without max has no bound; give max', 'scenario.session_context_tokens', limits.maxContextTokens);
    if (!Number.isFinite(user)) throw new LimitError('scenario.turn_tokens: a lognormal without max has no bound; give max', 'scenario.turn_tokens', limits.maxContextTokens);
    const longest = p.shared_prefix_tokens + context + (turns - 1) * (user + p.answer_tokens) + user + p.answer_tokens;
    over(longest, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', 'scenario.turns');
    over(p.sessions * turns, maxRequests, 'MAX_BATCHES × MAX_BATCH_SIZE', 'scenario.sessions');
    over(p.shared_prefix_tokens + p.sessions * (longest - p.shared_prefix_tokens), maxTokens, 'MAX_WORKLOAD_BYTES / 4', 'scenario.sessions');
  } else {
    over(p.document_tokens + p.question_tokens + (p.answer_tokens ?? 0), limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', 'scenario.document_tokens');
    const requests = p.documents * p.questions * p.rounds;
    over(requests, maxRequests, 'MAX_BATCHES × MAX_BATCH_SIZE', 'scenario.documents');
    over(p.documents * p.document_tokens + requests * p.question_tokens, maxTokens, 'MAX_WORKLOAD_BYTES / 4', 'scenario.documents');
  }
}

/** Checks an uploaded (already parsed, native) document; fields are named by their native path. */
export function checkDocumentLimits(doc: AnyWorkload, limits: Limits): void {
  if (doc.version === 2) {
    doc.prompts.forEach((p, i) => over(p.tokens, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `document.prompts.${i}.tokens`));
    over(doc.requests.length, limits.maxBatches * limits.maxBatchSize, 'MAX_BATCHES × MAX_BATCH_SIZE', 'document.requests');
    const working = doc.segments.reduce((n, s) => n + s.tokens, 0);
    over(working, Math.floor(limits.maxWorkloadBytes / 4), 'MAX_WORKLOAD_BYTES / 4', 'document.segments');
    return;
  }
  over(doc.batches.length, limits.maxBatches, 'MAX_BATCHES', 'document.batches');
  doc.batches.forEach((b, i) => {
    over(b.context_tokens, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `document.batches.${i}.context_tokens`);
    over(b.requests.length, limits.maxBatchSize, 'MAX_BATCH_SIZE', `document.batches.${i}.requests`);
  });
  doc.prompts.forEach((p, i) => over(p.tokens, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `document.prompts.${i}.tokens`));
}

/** The serialized document, whether generated or uploaded, must fit MAX_WORKLOAD_BYTES. */
export function checkWorkloadBytes(bytes: number, limits: Limits, field: string): void {
  if (bytes > limits.maxWorkloadBytes) {
    throw new SizeLimitError(
      `the workload document is ${bytes} bytes, more than MAX_WORKLOAD_BYTES (${limits.maxWorkloadBytes})`,
      field,
      limits.maxWorkloadBytes,
    );
  }
}
